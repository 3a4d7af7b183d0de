/**
 * `pg`, `nestjs-cls` and `@nestjs-cls/transactional` are optional peers: this suite makes them
 * impossible to load and checks that nothing but the postgres store asks for them.
 */
function notInstalled(name: string): never {
  const error = new Error(`Cannot find module '${name}' from 'postgres-inbox.store.ts'`);
  (error as Error & { code: string }).code = 'MODULE_NOT_FOUND';
  throw error;
}
jest.mock('pg', () => notInstalled('pg'), { virtual: true });
jest.mock('@nestjs-cls/transactional', () => notInstalled('@nestjs-cls/transactional'), {
  virtual: true,
});
jest.mock('nestjs-cls', () => notInstalled('nestjs-cls'), { virtual: true });

import { Test } from '@nestjs/testing';
import { DedupModule, DedupService, PostgresInboxStore } from '../../index';

describe('optional peers of the postgres store', () => {
  it('a memory-store app boots and deduplicates without pg or nestjs-cls installed', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [DedupModule.forRoot({ cleanupCron: false })],
    }).compile();
    await moduleRef.init();
    const dedup = moduleRef.get(DedupService);
    expect(await dedup.run('a', () => 1)).toBe(1);
    expect(await dedup.run('a', () => 2)).toBeUndefined();
    await moduleRef.close();
  });

  it('the postgres store without pg fails naming the package to install', () => {
    expect(() => new PostgresInboxStore({ connectionString: 'postgres://x@127.0.0.1/db' })).toThrow(
      /optional peer dependency "pg".*npm install pg/,
    );
  });
});
