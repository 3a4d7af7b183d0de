import { resolveDedupOptions } from '../../dedup.options';
import { DedupOptionsError } from '../../errors/dedup.errors';
import type { PGliteLike, PgPoolLike } from './inbox.drivers';
import { resolvePostgresOptions } from './postgres-inbox.options';

const URL = 'postgres://app@127.0.0.1:5432/app';

function fakePool(max?: number): PgPoolLike {
  return {
    connect: () => Promise.reject(new Error('not used')),
    query: () => Promise.reject(new Error('not used')),
    end: () => Promise.resolve(),
    options: { max },
  };
}

function fakePglite(): PGliteLike {
  return {
    query: () => Promise.reject(new Error('not used')),
    transaction: () => Promise.reject(new Error('not used')),
  };
}

function errorOf(fn: () => unknown): DedupOptionsError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DedupOptionsError) return error;
    throw error;
  }
  throw new Error('expected a DedupOptionsError');
}

describe('postgres store options', () => {
  it('fills in the defaults for a connection string', () => {
    const resolved = resolvePostgresOptions({ connectionString: URL });
    expect(resolved).toMatchObject({
      connectionString: URL,
      migrate: true,
      transactionHost: undefined,
      partitionsConsumedConcurrently: 1,
      sweepBatchSize: 1000,
      poolMax: 10,
    });
    expect(resolved.table.sql).toBe('"kafka_dedup_inbox"');
  });

  it('accepts a schema-qualified table and a TransactionHost connection name', () => {
    const resolved = resolvePostgresOptions({
      pool: fakePool(4),
      table: 'inbox.events',
      transactionHost: 'reads',
    });
    expect(resolved.table).toMatchObject({
      sql: '"inbox"."events"',
      schema: 'inbox',
      name: 'events',
    });
    expect(resolved.transactionHost).toBe('reads');
    expect(
      resolvePostgresOptions({ pool: fakePool(), transactionHost: true }).transactionHost,
    ).toBe('');
  });

  it('takes batch transactions with their caps, off by default, and names a bad value', () => {
    expect(resolvePostgresOptions({ pool: fakePool() }).batch).toBeUndefined();
    expect(resolvePostgresOptions({ pool: fakePool(), batchTransactions: true }).batch).toEqual({
      maxMessages: 500,
      maxMs: 1000,
    });
    expect(
      resolvePostgresOptions({
        pglite: fakePglite(),
        batchTransactions: true,
        batchMaxMessages: 50,
        batchMaxMs: 200,
      }).batch,
    ).toEqual({ maxMessages: 50, maxMs: 200 });
    expect(
      errorOf(() => resolvePostgresOptions({ pool: fakePool(), batchTransactions: 'yes' })).option,
    ).toBe('postgres.batchTransactions');
    expect(
      errorOf(() =>
        resolvePostgresOptions({ pool: fakePool(), batchTransactions: true, batchMaxMessages: 0 }),
      ).option,
    ).toBe('postgres.batchMaxMessages');
  });

  it('fails naming postgres.connectionString when no connection is configured', () => {
    const error = errorOf(() => resolveDedupOptions({ store: 'postgres', postgres: {} }));
    expect(error.option).toBe('postgres.connectionString');
    expect(error.message).toContain('no connection configured');
  });

  it('fails naming "postgres" when store: "postgres" has no postgres options at all', () => {
    expect(errorOf(() => resolveDedupOptions({ store: 'postgres' })).option).toBe('postgres');
  });

  it('rejects postgres options with another store', () => {
    const error = errorOf(() =>
      resolveDedupOptions({ store: 'memory', postgres: { connectionString: URL } }),
    );
    expect(error.option).toBe('postgres');
  });

  it.each([
    [{ connectionString: 'mysql://x' }, 'postgres.connectionString'],
    [{ connectionString: URL, pool: fakePool() }, 'postgres.connectionString'],
    [{ pool: {} }, 'postgres.pool'],
    [{ pool: fakePool(), config: { max: 3 } }, 'postgres.config'],
    [{ connectionString: URL, table: 'users; DROP TABLE x' }, 'postgres.table'],
    [{ connectionString: URL, table: 'a.b.c' }, 'postgres.table'],
    [{ connectionString: URL, table: '"quoted"' }, 'postgres.table'],
    [{ connectionString: URL, migrate: 'yes' }, 'postgres.migrate'],
    [{ connectionString: URL, transactionHost: 1 }, 'postgres.transactionHost'],
    [{ connectionString: URL, sweepBatchSize: 0 }, 'postgres.sweepBatchSize'],
    [
      { connectionString: URL, partitionsConsumedConcurrently: 1.5 },
      'postgres.partitionsConsumedConcurrently',
    ],
    [{ connectionString: URL, tabel: 'x' }, 'postgres.tabel'],
    [{ pglite: {} }, 'postgres.pglite'],
    [{ pglite: fakePool() }, 'postgres.pglite'],
    [{ pglite: fakePglite(), pool: fakePool() }, 'postgres.pglite'],
    [{ pglite: fakePglite(), connectionString: URL }, 'postgres.pglite'],
    [{ pglite: fakePglite(), config: { max: 3 } }, 'postgres.config'],
  ])('rejects %j naming %s', (postgres, option) => {
    expect(errorOf(() => resolvePostgresOptions(postgres)).option).toBe(option);
  });

  it('fails when the pool is too small for partitionsConsumedConcurrently, naming the pool option', () => {
    const own = errorOf(() =>
      resolvePostgresOptions({
        connectionString: URL,
        config: { max: 3 },
        partitionsConsumedConcurrently: 3,
      }),
    );
    expect(own.option).toBe('postgres.config.max');
    expect(own.message).toContain('partitionsConsumedConcurrently = 3');
    const given = errorOf(() =>
      resolvePostgresOptions({ pool: fakePool(2), partitionsConsumedConcurrently: 2 }),
    );
    expect(given.option).toBe('postgres.pool');
    // node-postgres' default of 10 connections is enough for up to 9 partitions at once.
    expect(() =>
      resolvePostgresOptions({ pool: fakePool(), partitionsConsumedConcurrently: 9 }),
    ).not.toThrow();
    expect(() =>
      resolvePostgresOptions({ pool: fakePool(), partitionsConsumedConcurrently: 10 }),
    ).toThrow(DedupOptionsError);
  });

  it('accepts a PGlite instance: one session, so partitionsConsumedConcurrently needs no pool size', () => {
    const pglite = fakePglite();
    const resolved = resolvePostgresOptions({ pglite, partitionsConsumedConcurrently: 12 });
    expect(resolved).toMatchObject({ pool: undefined, connectionString: undefined, poolMax: 1 });
    expect(resolved.pglite).toBe(pglite);
    const both = errorOf(() => resolvePostgresOptions({ pglite, pool: fakePool() }));
    expect(both.message).toContain(
      'give one of postgres.pool, postgres.connectionString and postgres.pglite',
    );
    expect(errorOf(() => resolvePostgresOptions({})).message).toContain('postgres.pglite');
  });

  it('is selected by store: "postgres" in the module options', () => {
    const resolved = resolveDedupOptions({
      store: 'postgres',
      postgres: { connectionString: URL },
    });
    expect(resolved.store).toBe('postgres');
    expect(resolved.postgres?.connectionString).toBe(URL);
  });
});
