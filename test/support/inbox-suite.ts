import type { INestMicroservice } from '@nestjs/common';
import { Pool } from 'pg';
import { register } from 'prom-client';
import { SIDE_EFFECTS_DDL } from './inbox-app';
import {
  buildInboxConsumer,
  groupLag,
  InboxConsumerProcess,
  sideEffectCounts,
  type InboxStream,
} from './inbox-fixture';
import { createTestDatabase, PrivatePostgres, type TestDatabase } from './postgres-server';
import { sleep, waitFor } from './wait';

/** How a suite of the inbox crash tests waits and polls. */
export interface InboxSuiteOptions {
  /** Name prefix of the suite's database. */
  database?: string;
  /** More DDL run once on the suite's database after `side_effects`. */
  ddl?: string[];
  /** How long {@link InboxSuite.drained} waits, and how often it looks (ms). */
  drainMs: number;
  drainPollMs: number;
  /** How long {@link InboxSuite.killRepeatedly} goes on at most, and how often it looks (ms). */
  killMs: number;
  killPollMs: number;
}

/** What {@link useInboxSuite} gives a suite: its database, pool, and the crash-test steps. */
export interface InboxSuite {
  readonly db: TestDatabase;
  readonly pool: Pool;
  /** Consumer processes started by a test: SIGKILLed after it. */
  readonly processes: InboxConsumerProcess[];
  /** In-process consumers started by a test: closed after it. */
  readonly apps: INestMicroservice[];
  /** Waits until every id has its row and the group committed the whole topic. */
  drained(group: string, topic: string, stream: InboxStream, target?: Pool): Promise<boolean>;
  /** SIGKILLs `victim` each time another `step` rows are written, restarting it at once. */
  killRepeatedly(victim: InboxConsumerProcess, kills: number, step: number): Promise<number>;
}

/**
 * The setup shared by the inbox crash suites (per-message and batch transactions): builds the
 * consumer process once, creates a database of the suite's own with `side_effects`, clears the
 * metrics and the rows before each test and stops what the test started after it.
 */
export function useInboxSuite(options: InboxSuiteOptions): InboxSuite {
  let db!: TestDatabase;
  let pool!: Pool;
  const processes: InboxConsumerProcess[] = [];
  const apps: INestMicroservice[] = [];

  beforeAll(async () => {
    buildInboxConsumer();
    db = await createTestDatabase(options.database);
    pool = new Pool({ connectionString: db.url, max: 2 });
    await pool.query(SIDE_EFFECTS_DDL);
    for (const ddl of options.ddl ?? []) await pool.query(ddl);
  }, 240_000);
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });
  beforeEach(async () => {
    register.clear();
    await pool.query('TRUNCATE side_effects');
  });
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.kill()));
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });

  return {
    get db() {
      return db;
    },
    get pool() {
      return pool;
    },
    processes,
    apps,
    drained: (group, topic, stream, target = pool) =>
      waitFor(
        async () =>
          (await sideEffectCounts(target)).distinct === stream.ids.length &&
          (await groupLag(`${group}-server`, topic)) === 0,
        options.drainMs,
        options.drainPollMs,
      ),
    async killRepeatedly(victim, kills, step) {
      let done = 0;
      const deadline = Date.now() + options.killMs;
      while (done < kills && Date.now() < deadline) {
        const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM side_effects');
        if (Number(rows[0].n) >= (done + 1) * step) {
          await victim.kill();
          done++;
          await victim.start();
        } else {
          await sleep(options.killPollMs);
        }
      }
      return done;
    },
  };
}

/** A private PostgreSQL server (to restart mid-stream) with `side_effects`, and a pool on it. */
export interface RestartablePostgres {
  readonly server: PrivatePostgres;
  readonly pool: Pool;
}

/**
 * Starts a private PostgreSQL server on a port near `basePort` for the enclosing `describe`, with
 * `side_effects` and a pool that tolerates the restarts; destroys it after.
 */
export function useRestartablePostgres(basePort: number): RestartablePostgres {
  const server = new PrivatePostgres(basePort + Math.floor(Math.random() * 1000));
  let pool!: Pool;
  beforeAll(async () => {
    await server.start();
    pool = new Pool({ connectionString: server.url(), max: 2 });
    pool.on('error', () => undefined);
    await pool.query(SIDE_EFFECTS_DDL);
  }, 60_000);
  afterAll(async () => {
    await pool.end().catch(() => undefined);
    await server.destroy();
  });
  return {
    server,
    get pool() {
      return pool;
    },
  };
}
