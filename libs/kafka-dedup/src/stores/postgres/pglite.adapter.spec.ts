import { PGlite, type Transaction } from '@electric-sql/pglite';
import { DedupOptionsError, DedupStoreError } from '../../errors/dedup.errors';
import type { DedupKey } from '../../interfaces/dedup-key.interface';
import { getInboxClient } from './inbox.context';
import { migratePostgresInbox } from './inbox.migration';
import { isPGlite, type PGliteLike } from './inbox.drivers';
import { PgliteInboxAdapter } from './pglite.adapter';
import { PostgresInboxStore } from './postgres-inbox.store';

const key = (id: string | Buffer, scope = 'orders'): DedupKey => ({ scope, id });

describe('PostgresInboxStore on PGlite', () => {
  let pglite: PGlite;
  let store: PostgresInboxStore;

  beforeAll(async () => {
    pglite = new PGlite();
    await pglite.exec('CREATE TABLE effects (id text NOT NULL)');
    store = new PostgresInboxStore({ pglite });
    await store.onModuleInit();
  }, 60_000);
  afterAll(async () => {
    await store.close();
    await pglite.close();
  });
  beforeEach(async () => {
    await pglite.exec('TRUNCATE effects; TRUNCATE kafka_dedup_inbox');
  });

  const effects = async (): Promise<string[]> =>
    (await pglite.query<{ id: string }>('SELECT id FROM effects ORDER BY id')).rows.map(
      (r) => r.id,
    );
  const write = (id: string) => () =>
    getInboxClient<Transaction>()
      .query('INSERT INTO effects (id) VALUES ($1)', [id])
      .then(() => id);

  it('is recognised by shape, a node-postgres pool is not', () => {
    expect(isPGlite(pglite)).toBe(true);
    expect(isPGlite({ query() {}, connect() {}, transaction() {} })).toBe(false);
    expect(isPGlite({})).toBe(false);
    expect(store.pool).toBeUndefined();
  });

  it('migrates at bootstrap (the table and its indexes), idempotently', async () => {
    await migratePostgresInbox(pglite);
    const { rows } = await pglite.query<{ indexname: string }>(
      "SELECT indexname FROM pg_indexes WHERE tablename = 'kafka_dedup_inbox' ORDER BY 1",
    );
    expect(rows.map((r) => r.indexname)).toEqual([
      'kafka_dedup_inbox_expires_at_idx',
      'kafka_dedup_inbox_pkey',
    ]);
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('commits the handler write and the id together; a copy is skipped and writes nothing', async () => {
    await expect(store.runInTransaction(key('e1'), 60_000, write('e1'))).resolves.toEqual({
      duplicate: false,
      result: 'e1',
    });
    const copy = jest.fn(write('e1'));
    await expect(store.runInTransaction(key('e1'), 60_000, copy)).resolves.toEqual({
      duplicate: true,
    });
    expect(copy).not.toHaveBeenCalled();
    expect(await effects()).toEqual(['e1']);
    expect(await store.size()).toBe(1);
    // PGlite is free again: no transaction left open.
    expect((await pglite.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('rolls the write and the id back when the handler throws; the redelivery is processed', async () => {
    const failing = async () => {
      await write('e2')();
      throw new Error('boom');
    };
    await expect(store.runInTransaction(key('e2'), 60_000, failing)).rejects.toThrow('boom');
    expect(await effects()).toEqual([]);
    expect(await store.size()).toBe(0);
    await expect(store.runInTransaction(key('e2'), 60_000, write('e2'))).resolves.toMatchObject({
      duplicate: false,
    });
    expect(await effects()).toEqual(['e2']);
  });

  it('fails as a DedupStoreError (commit) when the handler caught a statement error: nothing is recorded', async () => {
    const swallowing = async () => {
      await write('e3')();
      await getInboxClient<Transaction>()
        .query('SELECT * FROM no_such_table')
        .catch(() => undefined);
      return 'ok';
    };
    const error = await store.runInTransaction(key('e3'), 60_000, swallowing).catch((e) => e);
    expect(error).toBeInstanceOf(DedupStoreError);
    expect(error.message).toContain('commit');
    expect(await effects()).toEqual([]);
    expect(await store.size()).toBe(0);
  });

  it('fails as a DedupStoreError (commit) when the handler rolled the transaction back itself', async () => {
    const rollingBack = async () => {
      await write('e4')();
      await getInboxClient<Transaction>().rollback();
    };
    await expect(store.runInTransaction(key('e4'), 60_000, rollingBack)).rejects.toBeInstanceOf(
      DedupStoreError,
    );
    expect(await store.size()).toBe(0);
  });

  it('serialises concurrent copies: one runs, the other is a duplicate', async () => {
    const outcomes = await Promise.all(
      [1, 2, 3].map(() => store.runInTransaction(key('e5'), 60_000, write('e5'))),
    );
    expect(outcomes.filter((o) => !o.duplicate)).toHaveLength(1);
    expect(await effects()).toEqual(['e5']);
  });

  it('keeps binary ids and scopes apart', async () => {
    const bytes = Buffer.from([0xff, 0x00, 0x27]);
    await store.runInTransaction(key(bytes), 60_000, write('b1'));
    expect((await store.runInTransaction(key(bytes), 60_000, write('b1'))).duplicate).toBe(true);
    expect((await store.runInTransaction(key(bytes, 'other'), 60_000, write('b2'))).duplicate).toBe(
      false,
    );
  });

  it('runs the lease protocol (claim, in-flight, commit, duplicate, release, renew, markIfAbsent)', async () => {
    const claimed = await store.claim(key('l1'), 60_000);
    expect(claimed.status).toBe('claimed');
    const token = (claimed as { token: string }).token;
    expect(await store.claim(key('l1'), 60_000)).toEqual({ status: 'in-flight' });
    await store.renew([{ key: key('l1'), token }], 60_000);
    await store.commit(key('l1'), token, 60_000);
    expect(await store.claim(key('l1'), 60_000)).toEqual({ status: 'duplicate' });

    const other = (await store.claim(key('l2'), 60_000)) as { token: string };
    await store.release(key('l2'), other.token);
    expect((await store.claim(key('l2'), 60_000)).status).toBe('claimed');

    expect(await store.markIfAbsent(key('m1'), 60_000)).toBe(true);
    expect(await store.markIfAbsent(key('m1'), 60_000)).toBe(false);
  });

  it('batch transaction: claims new keys once (one or several scopes, text and binary ids, an empty id), withdraws the unreached', async () => {
    const run = (keys: DedupKey[], reach = keys.length) => {
      let seen: readonly boolean[] = [];
      return store
        .runBatchInTransaction(keys, 60_000, async (claimed) => {
          seen = claimed;
          return reach;
        })
        .then(() => seen);
    };
    const odd = 'o\'dd\\"id';
    expect(await run([key('a'), key(''), key(Buffer.from([0, 255])), key(odd)])).toEqual([
      true,
      true,
      true,
      true,
    ]);
    // Done ids, then several scopes in one chunk: only the new ones are claimed.
    expect(await run([key('a'), key('b'), key('a', 'other'), key(odd, "sc'ope")])).toEqual([
      false,
      true,
      true,
      true,
    ]);
    // The body reaches the first key only: the claims of the later new ones are withdrawn.
    expect(await run([key('c'), key('d'), key('e', 'other')], 1)).toEqual([true, true, true]);
    const rows = await pglite.query<{ scope: string; h: string }>(
      "SELECT scope, encode(id, 'hex') AS h FROM kafka_dedup_inbox ORDER BY scope, h",
    );
    const hex = (id: string | Buffer) => Buffer.from(id as string).toString('hex');
    expect(rows.rows).toEqual(
      [
        { scope: 'orders', h: '' },
        { scope: 'orders', h: hex(Buffer.from([0, 255])) },
        { scope: 'orders', h: hex('a') },
        { scope: 'orders', h: hex('b') },
        { scope: 'orders', h: hex('c') },
        { scope: 'orders', h: hex(odd) },
        { scope: 'other', h: hex('a') },
        { scope: "sc'ope", h: hex(odd) },
      ].sort((x, y) => (x.scope + x.h < y.scope + y.h ? -1 : 1)),
    );
  });

  it('sweeps expired records in batches', async () => {
    await pglite.query(
      "INSERT INTO kafka_dedup_inbox (scope, id, expires_at) SELECT 's', int4send(g), now() - interval '1 minute' FROM generate_series(1, 25) g",
    );
    await store.markIfAbsent(key('live'), 60_000);
    const small = new PostgresInboxStore({ pglite, sweepBatchSize: 10, migrate: false });
    await small.onModuleInit();
    expect((await small.cleanup()).removed).toBe(25);
    expect(await store.size()).toBe(1);
  });

  it('fails the bootstrap naming postgres.table for a table that is not an inbox', async () => {
    await pglite.exec('CREATE TABLE not_inbox (scope text, id text)');
    const wrong = new PostgresInboxStore({ pglite, table: 'not_inbox' });
    await expect(wrong.onModuleInit()).rejects.toThrow(/postgres.table.*not an inbox table/);
  });

  it('fails the bootstrap naming postgres.pglite when PGlite does not answer', async () => {
    const closed = new PGlite();
    await closed.close();
    const error = await new PostgresInboxStore({ pglite: closed }).onModuleInit().catch((e) => e);
    expect(error).toBeInstanceOf(DedupOptionsError);
    expect(error.option).toBe('postgres.pglite');
    expect(error.message).toContain('PGlite does not answer');
  });
});

describe('PgliteInboxAdapter failures', () => {
  /** A PGlite double whose transaction runs `callback` like PGlite does (throws roll back). */
  function fake(options: { claim?: () => Promise<unknown>; commit?: Error; begin?: Error }) {
    const tx = {
      closed: false,
      query: jest.fn(async () => (options.claim ? options.claim() : { rows: [], affectedRows: 1 })),
      exec: jest.fn(),
      rollback: jest.fn(async () => {
        tx.closed = true;
      }),
    };
    const pglite = {
      query: jest.fn(),
      transaction: jest.fn(async (callback: (t: typeof tx) => Promise<unknown>) => {
        if (options.begin) throw options.begin;
        const result = await callback(tx);
        if (options.commit && !tx.closed) throw options.commit;
        return result;
      }),
    } as unknown as PGliteLike;
    return { adapter: new PgliteInboxAdapter(pglite), tx };
  }

  it('answers a duplicate (rolled back, handler skipped) when the claim inserts no row', async () => {
    const { adapter, tx } = fake({ claim: async () => ({ rows: [], affectedRows: 0 }) });
    const fn = jest.fn();
    await expect(adapter.runInTransaction('CLAIM', fn, 'postgres')).resolves.toEqual({
      duplicate: true,
    });
    expect(fn).not.toHaveBeenCalled();
    expect(tx.rollback).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['claim', { claim: () => Promise.reject(new Error('disk full')) }],
    ['commit', { commit: new Error('COMMIT answered ROLLBACK') }],
    ['transaction', { begin: new Error('PGlite is closed') }],
  ])('maps a failed %s to DedupStoreError (Kafka redelivers)', async (operation, options) => {
    const { adapter } = fake(options);
    const error = await adapter
      .runInTransaction('CLAIM', async () => 'x', 'postgres')
      .catch((e) => e);
    expect(error).toBeInstanceOf(DedupStoreError);
    expect(error.message).toContain(operation);
  });

  it("rethrows the handler's own error unchanged", async () => {
    const { adapter } = fake({});
    const boom = new Error('boom');
    await expect(
      adapter.runInTransaction(
        'CLAIM',
        async () => {
          throw boom;
        },
        'postgres',
      ),
    ).rejects.toBe(boom);
  });

  it('shapes results like node-postgres (rowCount from affectedRows)', async () => {
    const pglite = {
      query: jest.fn(async () => ({ rows: [{ a: 1 }], affectedRows: 3, command: 'DELETE' })),
      transaction: jest.fn(),
    } as unknown as PGliteLike;
    await expect(new PgliteInboxAdapter(pglite).query('DELETE …', [1])).resolves.toEqual({
      rows: [{ a: 1 }],
      rowCount: 3,
      command: 'DELETE',
    });
  });
});
