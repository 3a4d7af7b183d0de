import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOptionalPeer, requireOptionalPeer } from './dedup.peers';

describe('optional peers', () => {
  it('loads an installed peer', () => {
    expect(loadOptionalPeer<typeof import('rxjs')>('rxjs')?.of).toBeInstanceOf(Function);
  });

  it('answers undefined for a peer that is not installed', () => {
    expect(loadOptionalPeer('kafka-dedup-not-installed-peer')).toBeUndefined();
  });

  it('names the package to install when a feature needs a missing peer', () => {
    expect(() => requireOptionalPeer('kafka-dedup-not-installed-peer', "store: 'redis'")).toThrow(
      `@nest-resilience/kafka-dedup: store: 'redis' needs the optional peer dependency "kafka-dedup-not-installed-peer", which is not installed: npm install kafka-dedup-not-installed-peer`,
    );
  });

  it('rethrows the error of an installed peer that fails to load (a missing file inside it is not "not installed")', () => {
    const dir = mkdtempSync(join(tmpdir(), 'optional-peer-'));
    try {
      const broken = join(dir, 'broken-peer');
      mkdirSync(broken);
      writeFileSync(join(broken, 'index.js'), "require('./missing-inner-file');");
      expect(() => loadOptionalPeer(broken)).toThrow(/missing-inner-file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
