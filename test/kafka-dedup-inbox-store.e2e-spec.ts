import { Inject, Injectable, Module, type ModuleMetadata } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { ClsModule } from 'nestjs-cls';
import { ClsPluginTransactional, Transactional, TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterDrizzleOrm } from '@nestjs-cls/transactional-adapter-drizzle-orm';
import { sql } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { pgTable, serial, text } from 'drizzle-orm/pg-core';
import { KafkaRetriableException } from '@nestjs/microservices';
import { Pool, type PoolClient } from 'pg';
import { register } from 'prom-client';
import {
  DedupHealthIndicator,
  DedupModule,
  DedupOptionsError,
  DedupService,
  DedupStore,
  DedupStoreError,
  getInboxClient,
  InboxTransaction,
  PostgresInboxStore,
  type DedupModuleOptions,
} from '@nest-resilience/kafka-dedup';
import { createTestDatabase, type TestDatabase } from './support/postgres-server';
import { sleep } from './support/wait';

const effects = pgTable('side_effects', {
  seq: serial('seq').primaryKey(),
  eventId: text('event_id').notNull(),
});
const DRIZZLE = Symbol('DRIZZLE');
type Db = NodePgDatabase<Record<string, never>>;

/** A read model written through Drizzle in `@Transactional()` methods (joins the inbox transaction). */
@Injectable()
class DrizzleReadModel {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterDrizzleOrm<Db>>) {}

  @Transactional()
  async apply(eventId: string, fail = false): Promise<void> {
    await this.txHost.tx.insert(effects).values({ eventId });
    if (fail) throw new Error('handler failed after its write');
  }
}

/** A read model written with the inbox transaction's pg client, injected. */
@Injectable()
class PgReadModel {
  constructor(@Inject(InboxTransaction) private readonly inbox: InboxTransaction) {}

  async apply(eventId: string, fail = false): Promise<void> {
    await this.inbox
      .client<PoolClient>()
      .query('INSERT INTO side_effects (event_id) VALUES ($1)', [eventId]);
    if (fail) throw new Error('handler failed after its write');
  }
}

describe('kafka-dedup PostgreSQL inbox store (real PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: Pool;
  const modules: TestingModule[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 8 });
    await pool.query('CREATE TABLE side_effects (seq serial PRIMARY KEY, event_id text NOT NULL)');
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });
  beforeEach(async () => {
    register.clear();
    await pool.query('TRUNCATE side_effects');
    await pool.query('DROP TABLE IF EXISTS kafka_dedup_inbox');
  });
  afterEach(async () => {
    await Promise.all(modules.splice(0).map((m) => m.close()));
  });

  async function boot(
    dedup: DedupModuleOptions,
    extra: ModuleMetadata = {},
  ): Promise<TestingModule> {
    const moduleRef = await Test.createTestingModule({
      imports: [DedupModule.forRoot({ cleanupCron: false, ...dedup }), ...(extra.imports ?? [])],
      providers: extra.providers ?? [],
    }).compile();
    modules.push(moduleRef);
    await moduleRef.init();
    return moduleRef;
  }

  async function rows(): Promise<string[]> {
    const result = await pool.query<{ event_id: string }>(
      'SELECT event_id FROM side_effects ORDER BY seq',
    );
    return result.rows.map((r) => r.event_id);
  }

  /** Runs `sql` on each connection of a pool (all checked out at once) and answers all rows. */
  async function onEveryConnection(
    small: Pool,
    sql: string,
  ): Promise<Array<Record<string, unknown>>> {
    const clients = await Promise.all(
      Array.from({ length: small.options.max }, () => small.connect()),
    );
    try {
      const results = await Promise.all(clients.map((c) => c.query(sql)));
      return results.flatMap((r) => r.rows);
    } finally {
      for (const c of clients) c.release();
    }
  }

  const plain = (): DedupModuleOptions => ({
    store: 'postgres',
    postgres: { connectionString: db.url },
  });

  // First: TransactionHost.getInstance() is process-wide, so once a later test registered one it is found.
  it('fails the bootstrap naming postgres.transactionHost when no TransactionHost is registered', async () => {
    await expect(
      boot({ store: 'postgres', postgres: { pool, transactionHost: true } }),
    ).rejects.toThrow(/invalid option "postgres.transactionHost".*ClsPluginTransactional/);
  });

  describe('with plain pg (the store opens the transaction)', () => {
    it('commits the handler write and the id together; a later copy is skipped', async () => {
      const moduleRef = await boot(plain(), { providers: [PgReadModel] });
      const dedup = moduleRef.get(DedupService);
      const model = moduleRef.get(PgReadModel);
      expect(await dedup.run('e1', () => model.apply('e1').then(() => 'done'))).toBe('done');
      expect(await dedup.run('e1', () => model.apply('e1'))).toBeUndefined();
      expect(await rows()).toEqual(['e1']);
      const inbox = await pool.query(
        'SELECT scope, encode(id, $1) AS id, token FROM kafka_dedup_inbox',
        ['escape'],
      );
      expect(inbox.rows).toEqual([{ scope: 'default', id: 'e1', token: null }]);
    });

    it('rolls back the handler write and the id when the handler throws; the retry is processed', async () => {
      const moduleRef = await boot(plain(), { providers: [PgReadModel] });
      const dedup = moduleRef.get(DedupService);
      const model = moduleRef.get(PgReadModel);
      await expect(dedup.run('e2', () => model.apply('e2', true))).rejects.toThrow(
        'handler failed after its write',
      );
      expect(await rows()).toEqual([]);
      await dedup.run('e2', () => model.apply('e2'));
      expect(await rows()).toEqual(['e2']);
    });

    it('a concurrent copy waits on the unique key until the first commits, then is a duplicate', async () => {
      const moduleRef = await boot(plain());
      const dedup = moduleRef.get(DedupService);
      let finishFirst!: () => void;
      const firstMayCommit = new Promise<void>((resolve) => (finishFirst = resolve));
      const first = dedup.run('e3', async () => {
        await getInboxClient().query("INSERT INTO side_effects (event_id) VALUES ('e3')");
        await firstMayCommit;
        return 'first';
      });
      await sleep(100);
      let secondSettled = false;
      const second = dedup
        .run('e3', async () => {
          await getInboxClient().query("INSERT INTO side_effects (event_id) VALUES ('e3')");
          return 'second';
        })
        .finally(() => (secondSettled = true));
      await sleep(400);
      expect(secondSettled).toBe(false); // blocked on the first transaction's uncommitted row
      finishFirst();
      expect(await first).toBe('first');
      expect(await second).toBeUndefined();
      expect(await rows()).toEqual(['e3']);
    });

    it("a copy that waits longer than the pool's lock_timeout is thrown back for a later redelivery", async () => {
      const moduleRef = await boot({
        store: 'postgres',
        postgres: { connectionString: db.url, config: { options: '-c lock_timeout=200' } },
      });
      const dedup = moduleRef.get(DedupService);
      const first = dedup.run('e6', () => sleep(800).then(() => 'first'));
      await sleep(100);
      await expect(dedup.run('e6', async () => 'second')).rejects.toBeInstanceOf(DedupStoreError);
      expect(await first).toBe('first');
      expect(await dedup.run('e6', async () => 'third')).toBeUndefined();
    });

    it('a concurrent copy is processed when the first copy rolls back', async () => {
      const moduleRef = await boot(plain());
      const dedup = moduleRef.get(DedupService);
      let failFirst!: () => void;
      const firstFails = new Promise<void>((resolve) => (failFirst = resolve));
      const first = dedup.run('e4', async () => {
        await getInboxClient().query("INSERT INTO side_effects (event_id) VALUES ('e4-first')");
        await firstFails;
        throw new Error('first copy failed');
      });
      await sleep(100);
      const second = dedup.run('e4', async () => {
        await getInboxClient().query("INSERT INTO side_effects (event_id) VALUES ('e4-second')");
        return 'second';
      });
      await sleep(200);
      failFirst();
      await expect(first).rejects.toThrow('first copy failed');
      expect(await second).toBe('second');
      expect(await rows()).toEqual(['e4-second']);
    });

    it('a statement error the handler swallowed aborts the transaction: a retriable DedupStoreError, nothing written', async () => {
      const moduleRef = await boot(plain());
      const dedup = moduleRef.get(DedupService);
      const attempt = dedup.run('e5', async () => {
        const client = getInboxClient();
        await client.query("INSERT INTO side_effects (event_id) VALUES ('e5')");
        await client.query('SELECT 1/0').catch(() => undefined); // swallowed: the transaction is aborted
      });
      await expect(attempt).rejects.toBeInstanceOf(DedupStoreError);
      await expect(attempt).rejects.toBeInstanceOf(KafkaRetriableException);
      expect(await rows()).toEqual([]);
      await dedup.run('e5', () =>
        getInboxClient().query("INSERT INTO side_effects (event_id) VALUES ('e5')"),
      );
      expect(await rows()).toEqual(['e5']); // the redelivery is processed: the id was not recorded
    });

    it('a binary id and a textual one are different ids; bytes that are not UTF-8 survive', async () => {
      const moduleRef = await boot(plain());
      const store = moduleRef.get(DedupStore);
      const run = (id: string | Buffer) =>
        store.runInTransaction!({ scope: 's', id }, 60_000, async () => 'ran');
      expect(await run(Buffer.from([0xff, 0x01]))).toEqual({ duplicate: false, result: 'ran' });
      expect(await run(Buffer.from([0xfe, 0x01]))).toEqual({ duplicate: false, result: 'ran' });
      expect(await run(Buffer.from([0xff, 0x01]))).toEqual({ duplicate: true });
      expect(await run("it's")).toEqual({ duplicate: false, result: 'ran' });
      expect(await run("it's")).toEqual({ duplicate: true });
    });

    it('sweeps expired ids in bounded batches and keeps live ones', async () => {
      const moduleRef = await boot({
        ...plain(),
        postgres: { connectionString: db.url, sweepBatchSize: 400 },
      });
      const store = moduleRef.get(DedupStore);
      await pool.query(
        `INSERT INTO kafka_dedup_inbox (scope, id, expires_at)
         SELECT 'old', int4send(i), now() - interval '1 minute' FROM generate_series(1, 1000) i`,
      );
      await store.runInTransaction!({ scope: 'live', id: 'x' }, 60_000, async () => undefined);
      const result = await store.cleanup(2);
      expect(result.removed).toBe(1000);
      expect(await store.size()).toBe(1);
      // The sweep's range can use the expires_at index (a table this small is scanned otherwise).
      const client = await pool.connect();
      try {
        await client.query('SET enable_seqscan = off');
        const plan = await client.query(
          `EXPLAIN SELECT ctid FROM kafka_dedup_inbox WHERE expires_at < now() LIMIT 400`,
        );
        expect(JSON.stringify(plan.rows)).toContain('kafka_dedup_inbox_expires_at_idx');
      } finally {
        await client.query('RESET enable_seqscan');
        client.release();
      }
    });

    it('keeps the lease protocol for callers outside a transaction (claim, commit, release)', async () => {
      const moduleRef = await boot(plain());
      const store = moduleRef.get(DedupStore);
      const key = { scope: 'lease', id: 'k' };
      const first = await store.claim(key, 30_000);
      expect(first.status).toBe('claimed');
      expect((await store.claim(key, 30_000)).status).toBe('in-flight');
      await store.release(key, (first as { token: string }).token);
      const again = await store.claim(key, 30_000);
      expect(again.status).toBe('claimed');
      await store.commit(key, (again as { token: string }).token, 60_000);
      expect((await store.claim(key, 30_000)).status).toBe('duplicate');
      expect(await store.markIfAbsent({ scope: 'lease', id: 'm' }, 60_000)).toBe(true);
      expect(await store.markIfAbsent({ scope: 'lease', id: 'm' }, 60_000)).toBe(false);
    });

    it('prepares the claim once per connection and prepares it again after DISCARD ALL / DEALLOCATE ALL', async () => {
      const small = new Pool({ connectionString: db.url, max: 2 });
      try {
        const moduleRef = await boot({ store: 'postgres', postgres: { pool: small } });
        const dedup = moduleRef.get(DedupService);
        const statements = () =>
          getInboxClient<PoolClient>()
            .query<{ name: string }>(
              "SELECT name FROM pg_prepared_statements WHERE name LIKE 'kafka_dedup_claim_%'",
            )
            .then((r) => r.rows.map((row) => row.name));
        const seen: string[][] = [];
        const write = (id: string) => async () => {
          seen.push(await statements());
          await getInboxClient().query('INSERT INTO side_effects (event_id) VALUES ($1)', [id]);
        };
        await dedup.run('p1', write('p1'));
        await dedup.run('p2', write('p2'));
        await onEveryConnection(small, 'DISCARD ALL');
        await dedup.run('p3', write('p3'));
        await onEveryConnection(small, 'DEALLOCATE ALL');
        await dedup.run('p4', write('p4'));
        await dedup.run('p3', write('p3 again'));
        expect(await rows()).toEqual(['p1', 'p2', 'p3', 'p4']);
        expect(seen).toHaveLength(4);
        expect(new Set(seen.flat()).size).toBe(1); // one statement, present in every transaction
        for (const names of seen) expect(names).toHaveLength(1);
      } finally {
        await Promise.all(modules.splice(0).map((m) => m.close()));
        await small.end();
      }
    });

    it('two stores of one table and one of another claim side by side on one pool', async () => {
      const small = new Pool({ connectionString: db.url, max: 2 });
      const a = new PostgresInboxStore({ pool: small });
      const b = new PostgresInboxStore({ pool: small });
      const other = new PostgresInboxStore({ pool: small, table: 'other_inbox' });
      try {
        for (const store of [a, b, other]) await store.onModuleInit();
        expect(await a.runInTransaction({ scope: 's', id: '1' }, 60_000, async () => 'a')).toEqual({
          duplicate: false,
          result: 'a',
        });
        expect(await b.runInTransaction({ scope: 's', id: '1' }, 60_000, async () => 'b')).toEqual({
          duplicate: true,
        });
        expect(
          await other.runInTransaction({ scope: 's', id: '1' }, 60_000, async () => 'other'),
        ).toEqual({ duplicate: false, result: 'other' });
        const prepared = await onEveryConnection(
          small,
          "SELECT statement FROM pg_prepared_statements WHERE name LIKE 'kafka_dedup_claim_%'",
        );
        const tables = prepared.map((r) => /INTO (\S+)/.exec(String(r.statement))?.[1]);
        expect(new Set(tables)).toEqual(new Set(['"kafka_dedup_inbox"', '"other_inbox"']));
      } finally {
        await small.query('DROP TABLE IF EXISTS other_inbox');
        await small.end();
      }
    });
  });

  describe('with @nestjs-cls/transactional and Drizzle (the TransactionHost opens the transaction)', () => {
    function drizzleImports(): ModuleMetadata {
      const database = drizzle(pool);
      @Module({ providers: [{ provide: DRIZZLE, useValue: database }], exports: [DRIZZLE] })
      class DrizzleModule {}
      return {
        imports: [
          ClsModule.forRoot({
            plugins: [
              new ClsPluginTransactional({
                imports: [DrizzleModule],
                adapter: new TransactionalAdapterDrizzleOrm({ drizzleInstanceToken: DRIZZLE }),
              }),
            ],
          }),
        ],
        providers: [DrizzleReadModel],
      };
    }
    const viaHost = (): DedupModuleOptions => ({
      store: 'postgres',
      postgres: { pool, transactionHost: true },
    });

    it('@Transactional() writes join the inbox transaction: committed once, a copy skipped', async () => {
      const moduleRef = await boot(viaHost(), drizzleImports());
      const dedup = moduleRef.get(DedupService);
      const model = moduleRef.get(DrizzleReadModel);
      await dedup.run('d1', () => model.apply('d1'));
      await dedup.run('d1', () => model.apply('d1'));
      expect(await rows()).toEqual(['d1']);
    });

    it('a throw rolls back the Drizzle write and the id together; the retry is processed', async () => {
      const moduleRef = await boot(viaHost(), drizzleImports());
      const dedup = moduleRef.get(DedupService);
      const model = moduleRef.get(DrizzleReadModel);
      await expect(dedup.run('d2', () => model.apply('d2', true))).rejects.toThrow(
        'handler failed after its write',
      );
      expect(await rows()).toEqual([]);
      await dedup.run('d2', () => model.apply('d2'));
      expect(await rows()).toEqual(['d2']);
    });

    it('a Drizzle statement error the handler swallowed makes the message come back, nothing written', async () => {
      const moduleRef = await boot(viaHost(), drizzleImports());
      const dedup = moduleRef.get(DedupService);
      const txHost =
        moduleRef.get<TransactionHost<TransactionalAdapterDrizzleOrm<Db>>>(TransactionHost);
      const attempt = dedup.run('d3', async () => {
        await txHost.tx.insert(effects).values({ eventId: 'd3' });
        await txHost.tx.execute(sql`SELECT 1/0`).catch(() => undefined);
      });
      await expect(attempt).rejects.toBeInstanceOf(DedupStoreError);
      expect(await rows()).toEqual([]);
    });
  });

  describe('bootstrap checks', () => {
    it('fails naming postgres.connectionString when PostgreSQL does not answer', async () => {
      const error = await boot({
        store: 'postgres',
        postgres: { connectionString: 'postgres://postgres:secret@127.0.0.1:1/nodb' },
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DedupOptionsError);
      expect((error as DedupOptionsError).option).toBe('postgres.connectionString');
      expect((error as Error).message).not.toContain('secret');
    });

    it('fails naming postgres.table when the table has another schema', async () => {
      await pool.query('CREATE TABLE not_an_inbox (scope text, id text)');
      try {
        const error = await boot({
          store: 'postgres',
          postgres: { connectionString: db.url, table: 'not_an_inbox' },
        }).catch((e: unknown) => e);
        expect((error as DedupOptionsError).option).toBe('postgres.table');
        expect((error as Error).message).toMatch(/id bytea \(found: text\).*expires_at/);
      } finally {
        await pool.query('DROP TABLE not_an_inbox');
      }
    });

    it('fails naming postgres.table when migrate is off and the table is missing', async () => {
      const error = await boot({
        store: 'postgres',
        postgres: { connectionString: db.url, migrate: false },
      }).catch((e: unknown) => e);
      expect((error as DedupOptionsError).option).toBe('postgres.table');
      expect((error as Error).message).toContain('does not exist');
    });

    it('DedupHealthIndicator reports the inbox store up, and down when PostgreSQL does not answer', async () => {
      const moduleRef = await boot(plain());
      expect((await moduleRef.get(DedupHealthIndicator).isHealthy())['kafka-dedup']).toEqual({
        status: 'up',
        store: 'postgres',
        windowSeconds: 3_600,
        minWindowSeconds: 300,
        windowReliable: true,
      });
      const dead = new PostgresInboxStore({
        connectionString: 'postgres://postgres@127.0.0.1:1/nodb',
        config: { connectionTimeoutMillis: 300 },
      });
      try {
        const down = await new DedupHealthIndicator(dead).isHealthy('db', 1_000);
        expect(down.db).toMatchObject({ status: 'down', store: 'postgres' });
      } finally {
        await dead.close();
      }
    });

    it('an unreachable PostgreSQL at run time throws a retriable DedupStoreError (Kafka redelivers)', async () => {
      const store = new PostgresInboxStore({
        connectionString: 'postgres://postgres@127.0.0.1:1/nodb',
        config: { connectionTimeoutMillis: 500 },
      });
      try {
        const attempt = store.runInTransaction({ scope: 's', id: 'x' }, 1_000, async () => 1);
        await expect(attempt).rejects.toBeInstanceOf(DedupStoreError);
        await expect(attempt).rejects.toBeInstanceOf(KafkaRetriableException);
      } finally {
        await store.close();
      }
    });
  });
});
