/**
 * Shared pieces of `npm run bench:e2e`: paths of the built apps, free ports, a user-service process,
 * CPU time from /proc, the bench's own PostgreSQL databases and counting rows in them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DemoProcess } from '../../demo/app-process';
import { metricSum } from '../../demo/prometheus-text';
import { freePort } from '../../support/free-port';

export const ROOT = join(__dirname, '..', '..', '..');
export const USER_MAIN = join(ROOT, 'dist/apps/user-service/apps/user-service/src/main.js');
export const AUTH_MAIN = join(ROOT, 'dist/apps/auth-service/apps/auth-service/src/main.js');
/** The shared PostgreSQL server; the bench creates (and drops) databases of its own there. */
export const PG_SERVER = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const BROKER = process.env.KAFKA_BROKER ?? '127.0.0.1:9092';
/** Unique per run: topics, groups, databases and Redis keys carry it. */
export const RUN = `${Date.now().toString(36)}${process.pid.toString(36)}`;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Progress on stderr with the seconds since the start. */
const started = Date.now();
export function say(line: string): void {
  process.stderr.write(
    `[bench:e2e ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`,
  );
}

/** Waits (bounded) until `check` holds; returns whether it did. */
export async function until(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs = 250,
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= end) return false;
    await sleep(everyMs);
  }
}

/** One user-service process (the built app) on free ports, its log in `logDir`. */
export class UserServiceProcess {
  private process?: DemoProcess;
  httpPort = 0;

  constructor(
    readonly name: string,
    private readonly env: Record<string, string>,
    private readonly logDir: string,
  ) {}

  get base(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get pid(): number {
    return this.process?.pid ?? -1;
  }

  async start(): Promise<void> {
    this.httpPort = await freePort();
    const env = {
      HTTP_PORT: String(this.httpPort),
      GRPC_URL: `127.0.0.1:${await freePort()}`,
      KAFKA_STARTUP_RETRIES: '10',
      ...this.env,
    };
    this.process = new DemoProcess(
      this.name,
      USER_MAIN,
      env,
      join(this.logDir, `${this.name}.log`),
    );
    await this.process.start(/\[user-service\] listening on/, 120_000);
  }

  async metrics(): Promise<string> {
    return (await fetch(`${this.base}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  }

  /** CDC records this process has finished: applied, skipped as malformed, or skipped as duplicates. */
  async handled(topic: string): Promise<number> {
    const text = await this.metrics();
    return (
      metricSum(text, 'user_service_cdc_applied_total', { topic }) +
      metricSum(text, 'user_service_cdc_skipped_total', { topic }) +
      metricSum(text, 'kafka_event_deduplicated_total', { topic })
    );
  }

  async stop(): Promise<void> {
    await this.process?.stop('SIGTERM', 30_000);
  }
}

/** user + system CPU ticks of one process from /proc (0 when it is gone). */
export function processTicks(pid: number, withChildren = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const own = Number(fields[11]) + Number(fields[12]);
    return withChildren ? own + Number(fields[13]) + Number(fields[14]) : own;
  } catch {
    return 0;
  }
}

/** Seconds of CPU (user + system) of a process, from /proc. */
export const processCpuSeconds = (pid: number): number => processTicks(pid) / 100;

/**
 * CPU seconds of every `postgres` process of the machine plus the backends that exited (the
 * postmaster's children time): the server's whole cost, WAL writer and checkpointer included.
 */
export function postgresCpuSeconds(): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== 'postgres') continue;
    } catch {
      continue;
    }
    ticks += processTicks(Number(pid), true);
  }
  return ticks / 100;
}

/** CPU seconds of the Redis server (INFO cpu: main thread and children). */
export function redisCpuSeconds(): number {
  try {
    const url = new URL(REDIS_URL);
    const info = execFileSync(
      'redis-cli',
      ['-h', url.hostname, '-p', url.port || '6379', 'INFO', 'cpu'],
      { encoding: 'utf8', timeout: 5000 },
    );
    let sum = 0;
    for (const m of info.matchAll(/^used_cpu_(?:sys|user)(?:_children)?:([\d.]+)/gm))
      sum += Number(m[1]);
    return sum;
  } catch {
    return 0;
  }
}

/** Runs `fn` on a client of `database` (on {@link PG_SERVER}), then disconnects. */
export async function withPg<T>(
  database: string,
  fn: (client: import('pg').Client) => Promise<T>,
): Promise<T> {
  const { Client } = await import('pg');
  const client = new Client({ connectionString: `${PG_SERVER}/${database}` });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const created: string[] = [];

/** Creates a database of this run (`bench_e2e_<run>_<name>`), returns its URL. */
export async function createDatabase(name: string): Promise<{ name: string; url: string }> {
  const database = `bench_e2e_${RUN}_${name}`.replace(/\W/g, '_').toLowerCase();
  await withPg('postgres', (admin) => admin.query(`CREATE DATABASE "${database}"`));
  created.push(database);
  return { name: database, url: `${PG_SERVER}/${database}` };
}

/** Drops every database this run created (only those). */
export async function dropDatabases(): Promise<void> {
  while (created.length > 0) {
    const database = created.pop()!;
    await withPg('postgres', (admin) =>
      admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`),
    ).catch((error: unknown) => say(`could not drop ${database}: ${String(error)}`));
  }
}

/** VACUUM + CHECKPOINT before a measured case, so the previous case's writes do not land on it. */
export async function quiesce(database: string): Promise<void> {
  await withPg(database, async (client) => {
    await client.query('VACUUM ANALYZE');
    await client.query('CHECKPOINT').catch(() => undefined);
  });
}

/** `user_events` rows of `topic`, and how many distinct source positions they hold. */
export async function countRows(
  database: string,
  topic: string,
): Promise<{ rows: number; distinct: number }> {
  return withPg(database, async (client) => {
    const { rows } = await client.query<{ rows: string; distinct: string }>(
      'SELECT count(*) AS rows, count(DISTINCT (source_lsn, tx_id)) AS distinct FROM user_events WHERE topic = $1',
      [topic],
    );
    return { rows: Number(rows[0].rows), distinct: Number(rows[0].distinct) };
  });
}

/** The built apps exist (scripts/bench-e2e.sh builds them first). */
export function assertBuilt(): void {
  for (const main of [USER_MAIN, AUTH_MAIN])
    if (!existsSync(main)) throw new Error(`${main} missing: run nest build first`);
}

export { median } from '../../support/median';

/** The q-quantile (0..1) of numbers, nearest rank (NaN for none). */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export const round = (x: number, digits = 2): number => Number(x.toFixed(digits));
