/**
 * npm run bench:consumer [-- --json] [-- --concurrency N] [-- --events N] [-- --slow-events N] [-- --rounds N] [-- --only a,b]
 * [-- --pg-events N] [-- --pg-rounds N] (PostgreSQL cases: a row written per event, plain vs inbox store;
 * BENCH_PG_URL) [-- --prefill N] [-- --prefill-settle MS] (Redis cases: a running consumer's Redis,
 * below)
 *
 * What a user feels: a stock Nest `Transport.KAFKA` consumer on the real broker (127.0.0.1:9092),
 * N events (default 200,000, unique `x-event-id` headers) on 3 partitions produced first, consumed
 * by a trivial handler — without deduplication, behind a no-op Nest interceptor, with
 * `@Deduplicate()` on the memory store, on the Redis store, and in batch mode (`DedupKafkaServer`)
 * on Redis; then a ~1 ms handler (simulated I/O, --slow-events, default 5,000) without dedup, with
 * the memory store and with Redis. Each case runs in a fresh process (compiled with tsc) on a fresh
 * topic and consumer group; throughput is measured in the steady state: from the end of the first
 * fifth of the events (warm-up: JIT, connections, first fetches; consumed, not timed) to the last.
 * Why 200,000: the consumer's CPU per event is lumpy at the scale of 10,000 events (a fetch response
 * of ~1 MB per partition decoded at once, GC cycles): on the 2-core reference machine one fifth of
 * a 50,000-event run ranged 27–75 µs/event for the same code, and single 50,000-event rounds moved
 * ratios by ±20%; 160,000 timed events average the lumps out (rounds then agree within ~5–8%).
 * With --rounds N (default 5) the cases run N times, interleaved (even rounds in reverse order); a
 * ratio is the median of its per-round ratios, a rate the median of its rounds (a shared machine is
 * noisy). The PostgreSQL cases run --pg-rounds times (default 9): their single rounds move most
 * (the same code ranged 0.52–1.24 for inbox ÷ plain writes, ~8 s per case, PostgreSQL on the cores
 * the consumer and Kafka use), so their median needs more pairs; a pair costs ~20 s.
 * Ratios are against the no-dedup case with the same handler, in the same run. The CPU time per
 * event (process user + system) is reported too: it is what a busy shared machine disturbs least.
 * So is the store server's: PostgreSQL's (every `postgres` process) for the PostgreSQL cases, the
 * Redis server's (the `redis-server` on REDIS_URL's port) for the Redis cases — whole case, per
 * event, an upper bound when others use the same server meanwhile. Each Redis case runs under its
 * own key prefix, and its keys are deleted after it: otherwise a later case runs among its
 * predecessors' keys (hundreds of thousands, a larger keyspace to look up in) and, from 10 minutes
 * on, while Redis expires them — measured: a case's Redis CPU per event up to ~1.5x its value on
 * the same keyspace as the case it is compared with. That is an emptied Redis; with --prefill N
 * (default 0: none) each Redis case's prefix first remembers N ids, as a running consumer's Redis
 * does (`v1`: N done keys; `v2`: half in the previous bucket's groups, half in the current one's),
 * written through the store's own batch path, then the bench waits --prefill-settle ms (default
 * 15,000) for Redis to finish growing its key table (`redis-prefill.ts`; the cost-floor cases are
 * not prefilled). Untimed, it adds ~25 s + the settle time per Redis case and round at 1M ids; the
 * log line says whether the case's claims look in the previous bucket (not in a bucket's last ~8%).
 *
 * The machine's CPU (every process, all cores, /proc/stat) per timed event and the share of the cores
 * busy are reported per case too: where a ratio is bounded by the cores rather than by the code.
 * Opt-in cases (run only when named in --only): `redis-batch-floor-ship`, `-setnx`, `-variadic`,
 * cost floors of Redis protocols of three kinds in batch mode (scripts/bench/redis-floor.store.ts).
 *
 * Adding a case: append to CASES (and to RATIOS if it has a headline ratio); the worker
 * (consumer.worker.ts) builds the app from the case's fields.
 * Run under `flock /tmp/bench.lock` on a shared machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { median } from '../support/median';
import { prefillRedis } from './redis-prefill';
import type { WorkerCase, WorkerResult } from './consumer.worker';
import type { RedisFloorMode } from './redis-floor.store';

/** One benchmark case: a row of the table. */
interface BenchCase extends Pick<
  WorkerCase,
  | 'wrap'
  | 'store'
  | 'server'
  | 'handlerMs'
  | 'pgWrites'
  | 'batchTransactions'
  | 'redisLayout'
  | 'redisFloor'
> {
  /** Runs only when named in `--only`. */
  optIn?: boolean;
  name: string;
  description: string;
  /** The case this one is compared with (same handler). */
  baseline: string;
}

/** An opt-in cost-floor case (`redis-floor.store.ts`) named `redis-batch-floor-<name>`. */
function floorCase(name: string, mode: RedisFloorMode, what: string): BenchCase {
  return {
    name: `redis-batch-floor-${name}`,
    description: `batch mode, cost floor: ${what}`,
    wrap: 'deduplicate',
    store: 'redis',
    redisFloor: mode,
    server: 'batch',
    handlerMs: 0,
    baseline: 'none',
    optIn: true,
  };
}

const CASES: BenchCase[] = [
  {
    name: 'none',
    description: 'no dedup (stock Nest consumer)',
    wrap: 'none',
    server: 'standard',
    handlerMs: 0,
    baseline: 'none',
  },
  {
    name: 'noop-interceptor',
    description: 'a no-op Nest interceptor',
    wrap: 'noop-interceptor',
    server: 'standard',
    handlerMs: 0,
    baseline: 'none',
  },
  {
    name: 'memory',
    description: '@Deduplicate(), memory store',
    wrap: 'deduplicate',
    store: 'memory',
    server: 'standard',
    handlerMs: 0,
    baseline: 'none',
  },
  {
    name: 'redis',
    description: '@Deduplicate(), Redis store',
    wrap: 'deduplicate',
    store: 'redis',
    server: 'standard',
    handlerMs: 0,
    baseline: 'none',
  },
  {
    name: 'redis-batch',
    description: 'batch mode (DedupKafkaServer), Redis',
    wrap: 'deduplicate',
    store: 'redis',
    server: 'batch',
    handlerMs: 0,
    baseline: 'none',
  },
  // The Redis store's compact layout (`redis.layout: 'v2'`, fingerprints in groups) against the
  // default `v1` (one key per done id: `redis`, `redis-batch`), for the layout ratios
  // (perMessageOverOld, batchOverOld) in the same run.
  {
    name: 'redis-v2',
    description: '@Deduplicate(), Redis store, layout v2',
    wrap: 'deduplicate',
    store: 'redis',
    redisLayout: 'v2',
    server: 'standard',
    handlerMs: 0,
    baseline: 'none',
  },
  {
    name: 'redis-batch-v2',
    description: 'batch mode, Redis, layout v2',
    wrap: 'deduplicate',
    store: 'redis',
    redisLayout: 'v2',
    server: 'batch',
    handlerMs: 0,
    baseline: 'none',
  },
  // Cost floors, not stores (scripts/bench/redis-floor.store.ts): the least a Redis protocol of each
  // kind costs batch mode. Opt-in: `--only batch-none,redis-batch-floor-ship,…`.
  floorCase('ship', 'ship', 'the ids shipped to Redis and back, no command per id'),
  floorCase('setnx', 'set-nx', 'one SET NX per id at claim, one SET per id at commit'),
  floorCase('variadic', 'variadic', 'a few variadic commands per chunk (one set, one hash)'),
  {
    name: 'batch-none',
    description: 'batch-mode server (DedupKafkaServer), no dedup',
    wrap: 'none',
    server: 'batch',
    handlerMs: 0,
    baseline: 'none',
  },
  {
    name: 'none-1ms',
    description: '~1 ms handler, no dedup',
    wrap: 'none',
    server: 'standard',
    handlerMs: 1,
    baseline: 'none-1ms',
  },
  {
    name: 'memory-1ms',
    description: '~1 ms handler, memory store',
    wrap: 'deduplicate',
    store: 'memory',
    server: 'standard',
    handlerMs: 1,
    baseline: 'none-1ms',
  },
  {
    name: 'redis-1ms',
    description: '~1 ms handler, Redis store',
    wrap: 'deduplicate',
    store: 'redis',
    server: 'standard',
    handlerMs: 1,
    baseline: 'none-1ms',
  },
  // A handler writing one row to PostgreSQL in its own transaction (BEGIN, INSERT, COMMIT), vs the
  // same write in the inbox transaction of the postgres store (--pg-events, default 20,000). The
  // rows table has a primary key, as a read model's table does; the database is vacuumed and
  // checkpointed before each of these cases (quiescePostgres).
  {
    name: 'pg-writes',
    description: 'handler writes a row in a transaction, no dedup',
    wrap: 'none',
    server: 'standard',
    handlerMs: 0,
    pgWrites: true,
    baseline: 'pg-writes',
  },
  {
    name: 'inbox',
    description: 'same write, @Deduplicate() PostgreSQL inbox',
    wrap: 'deduplicate',
    store: 'postgres',
    server: 'standard',
    handlerMs: 0,
    pgWrites: true,
    baseline: 'pg-writes',
  },
  {
    name: 'inbox-batch',
    description: 'same write, batch mode, inbox batch transactions',
    wrap: 'deduplicate',
    store: 'postgres',
    server: 'batch',
    handlerMs: 0,
    pgWrites: true,
    batchTransactions: true,
    baseline: 'pg-writes',
  },
];

/** Headline ratios of the JSON line: [case, baseline]. */
const RATIOS: Record<string, [string, string]> = {
  memoryOverNone: ['memory', 'none'],
  redisOverNone: ['redis', 'none'],
  redisBatchOverNone: ['redis-batch', 'none'],
  /** What the Redis claims cost inside batch mode itself. */
  redisBatchOverBatchNone: ['redis-batch', 'batch-none'],
  noopInterceptorOverNone: ['noop-interceptor', 'none'],
  memory1msOverNone1ms: ['memory-1ms', 'none-1ms'],
  redis1msOverNone1ms: ['redis-1ms', 'none-1ms'],
  inboxOverPlainWrites: ['inbox', 'pg-writes'],
  inboxBatchOverPlainWrites: ['inbox-batch', 'pg-writes'],
  inboxBatchOverInbox: ['inbox-batch', 'inbox'],
  /** Redis layout v2 over v1 (the default), per message and in batch mode. */
  perMessageOverOld: ['redis-v2', 'redis'],
  batchOverOld: ['redis-batch-v2', 'redis-batch'],
  /** Batch mode on Redis layout v2 against batch mode without dedup. */
  redisBatchV2OverBatchNone: ['redis-batch-v2', 'batch-none'],
  /** Upper bounds of redisBatchOverBatchNone for the protocols of each floor's kind (opt-in cases). */
  floorShipOverBatchNone: ['redis-batch-floor-ship', 'batch-none'],
  floorSetNxOverBatchNone: ['redis-batch-floor-setnx', 'batch-none'],
  floorVariadicOverBatchNone: ['redis-batch-floor-variadic', 'batch-none'],
};

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const JSON_OUTPUT = args.includes('--json');
const EVENTS = Number(flag('--events') ?? 200_000);
const SLOW_EVENTS = Number(flag('--slow-events') ?? 5_000);
const PG_EVENTS = Number(flag('--pg-events') ?? 20_000);
/** Server of the PostgreSQL cases; the bench creates (and drops) a database of its own there. */
const PG_SERVER = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
const ONLY = flag('--only')?.split(',');
const ROUNDS = Number(flag('--rounds') ?? 5);
const PG_ROUNDS = Number(flag('--pg-rounds') ?? 9);
/** `--prefill N`: ids each Redis case's prefix remembers before it runs (`redis-prefill.ts`). */
const PREFILL = Number(flag('--prefill') ?? 0);
const PREFILL_SETTLE_MS = Number(flag('--prefill-settle') ?? 15_000);
for (const [name, value] of [
  ['--prefill', PREFILL],
  ['--prefill-settle', PREFILL_SETTLE_MS],
] as const)
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`${name} must be a whole number ≥ 0, got ${flag(name)}`);
/**
 * `--concurrency N`: kafkajs `partitionsConsumedConcurrently` of every case, baselines included.
 * Default: one per partition, as a consumer of 3 partitions whose handler waits on I/O (a Redis
 * round trip) is configured; kafkajs' own default (1) handles the partitions one at a time.
 */
const CONCURRENCY = Number(flag('--concurrency') ?? 3);
/** `--profile DIR`: each worker writes a V8 CPU profile there. */
const PROFILE_DIR = flag('--profile');
const BROKER = process.env.KAFKA_BROKER ?? '127.0.0.1:9092';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PARTITIONS = 3;
const CASE_TIMEOUT_MS = 240_000;
const ROOT = join(__dirname, '..', '..');
const BENCH_OUT = join(ROOT, 'dist', 'bench');
const WORKER = join(BENCH_OUT, 'scripts', 'bench', 'consumer.worker.js');
const RUN = `${Date.now().toString(36)}-${process.pid}`;

const log = (line: string): void => {
  if (!JSON_OUTPUT) console.log(line);
  else console.error(line);
};

function compileWorker(): void {
  log('compiling the worker with tsc (decorator metadata)…');
  const tsc = spawnSync(
    join(ROOT, 'node_modules', '.bin', 'tsc'),
    ['-p', join(ROOT, 'scripts', 'bench', 'tsconfig.consumer.json')],
    { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
  );
  // Type errors elsewhere in a tree under work still emit; a missing output is fatal.
  if (tsc.status !== 0) log(`tsc reported errors (output still emitted):\n${tsc.stdout}`);
  if (!existsSync(WORKER)) throw new Error(`worker not compiled: ${WORKER}`);
  // The worker imports the package by name, as an app does: resolve it to the library compiled
  // beside it (node_modules of the workspace would point at a build of libs/, or at nothing).
  // The same for the private package the library uses (@nest-resilience/common).
  for (const name of ['kafka-dedup', 'common']) {
    const link = join(BENCH_OUT, 'node_modules', '@nest-resilience', name);
    rmSync(link, { force: true });
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(BENCH_OUT, 'libs', name, 'src'), link, 'dir');
  }
}

async function produce(kafka: Kafka, topic: string, events: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: PARTITIONS }],
    waitForLeaders: true,
  });
  await admin.disconnect();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const chunk = 2_000;
  for (let start = 0; start < events; start += chunk) {
    const messages = [];
    for (let i = start; i < Math.min(events, start + chunk); i++) {
      const id = `${topic}:${i}`;
      messages.push({
        partition: i % PARTITIONS,
        value: JSON.stringify({ id, seq: i, kind: 'user.updated' }),
        headers: { 'x-event-id': id },
      });
    }
    await producer.send({ topic, messages, acks: 1 });
  }
  await producer.disconnect();
}

/**
 * Deletes the keys under `prefix` (a Redis case's, after it ran): SCAN + DEL, ~1 s per 200,000. DEL,
 * not UNLINK: UNLINK hands the freeing to a Redis background thread, which would run during the
 * next case.
 */
async function dropRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5_000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } catch (error) {
    log(`could not delete the keys under ${prefix}: ${(error as Error).message}`);
  } finally {
    redis.disconnect();
  }
}

async function dropTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic] });
  } catch {
    // best effort: a leftover topic only costs disk
  } finally {
    await admin.disconnect();
  }
}

function runWorker(spec: WorkerCase): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const profile = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
    const child = spawn(process.execPath, [...profile, WORKER, JSON.stringify(spec)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`case timed out after ${CASE_TIMEOUT_MS} ms: ${err.slice(-2000)}`));
    }, CASE_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (line) resolve(JSON.parse(line.slice('BENCH_RESULT '.length)) as WorkerResult);
      else reject(new Error(`worker exited with ${code}: ${(err || out).slice(-2000)}`));
    });
  });
}

async function main(): Promise<void> {
  compileWorker();
  const kafka = new Kafka({
    clientId: `bench-consumer-${RUN}`,
    brokers: [BROKER],
    logLevel: logLevel.NOTHING,
  });
  const runs = new Map<string, WorkerResult[]>();
  const rounds = Math.max(ROUNDS, PG_ROUNDS);
  for (let round = 1; round <= rounds; round++) {
    // Even rounds run the cases in reverse order: a machine drifting faster or slower during a
    // round then favours no case (a case and its baseline swap places).
    const order = round % 2 === 1 ? CASES : [...CASES].reverse();
    for (const c of order) {
      if (ONLY ? !ONLY.includes(c.name) : c.optIn) continue;
      const of = c.pgWrites ? PG_ROUNDS : ROUNDS;
      if (round > of) continue;
      const topic = `bench-consumer-${RUN}-${round}-${c.name}`;
      const events = c.pgWrites ? PG_EVENTS : c.handlerMs > 0 ? SLOW_EVENTS : EVENTS;
      const pgUrl = c.pgWrites ? await benchDatabase() : undefined;
      log(`[${round}/${of}] ${c.name}: producing ${events} events on ${PARTITIONS} partitions…`);
      await produce(kafka, topic, events);
      if (pgUrl) await quiescePostgres(pgUrl);
      const pgCpuBefore = pgUrl ? postgresCpuMicros() : undefined;
      const redisPrefix = `bench-consumer:${RUN}:${round}:${c.name}:`;
      try {
        // Inside the try: a prefill that fails still has its keys and topic dropped below.
        if (c.store === 'redis' && !c.redisFloor && PREFILL > 0) {
          const started = Date.now();
          const { previousBucketLooked } = await prefillRedis(
            REDIS_URL,
            redisPrefix,
            c.redisLayout ?? 'v1',
            PREFILL,
            PREFILL_SETTLE_MS,
          );
          const phase =
            previousBucketLooked === undefined
              ? ''
              : previousBucketLooked
                ? ', claims look in the previous bucket'
                : ', last part of a bucket: no look-up in the previous one';
          log(
            `[${round}/${of}] ${c.name}: ${PREFILL} ids remembered first (${((Date.now() - started) / 1000).toFixed(0)} s${phase})`,
          );
        }
        const redisCpuBefore = c.store === 'redis' ? redisCpuMicros() : undefined;
        const result = await runWorker({
          topic,
          groupId: `${topic}-g`,
          broker: BROKER,
          events,
          handlerMs: c.handlerMs,
          wrap: c.wrap,
          store: c.store,
          server: c.server,
          redisLayout: c.redisLayout,
          redisFloor: c.redisFloor,
          redisUrl: REDIS_URL,
          redisPrefix,
          pgWrites: c.pgWrites,
          pgUrl,
          pgTable: `rows_${c.name.replace(/\W/g, '_')}_${round}`,
          concurrency: CONCURRENCY,
          batchTransactions: c.batchTransactions,
        });
        const pgCpuAfter = pgCpuBefore !== undefined ? postgresCpuMicros() : undefined;
        if (pgCpuBefore !== undefined && pgCpuAfter !== undefined)
          result.pgCpuMicrosPerEvent = (pgCpuAfter - pgCpuBefore) / events;
        const redisCpuAfter = redisCpuBefore !== undefined ? redisCpuMicros() : undefined;
        if (redisCpuBefore !== undefined && redisCpuAfter !== undefined)
          result.redisCpuMicrosPerEvent = (redisCpuAfter - redisCpuBefore) / events;
        runs.set(c.name, [...(runs.get(c.name) ?? []), result]);
        log(
          `[${round}/${of}] ${c.name}: ${Math.round(result.eventsPerSec)} events/s, ${result.cpuMicrosPerEvent.toFixed(1)} µs CPU/event (by fifth: ${result.cpuByFifth?.join(' / ') ?? '—'})${serverNote(result)}`,
        );
      } finally {
        await dropTopic(kafka, topic);
        if (c.store === 'redis') await dropRedisKeys(redisPrefix);
      }
    }
  }
  await dropBenchDatabase();
  const results = new Map<string, WorkerResult>();
  for (const [name, list] of runs) results.set(name, medianBy(list));

  const rate = (name: string): number | undefined => results.get(name)?.eventsPerSec;
  /** Median over rounds of the per-round ratio (both cases ran minutes apart at most). */
  const ratio = (a: string, b: string): number | null => {
    const xs = runs.get(a);
    const ys = runs.get(b);
    if (!xs || !ys) return null;
    const ratios = xs
      .map((x, i) => (ys[i] ? x.eventsPerSec / ys[i].eventsPerSec : NaN))
      .filter((r) => !Number.isNaN(r))
      .sort((p, q) => p - q);
    return Number(ratios[Math.floor((ratios.length - 1) / 2)].toFixed(3));
  };
  const rows = CASES.filter((c) => results.has(c.name)).map((c) => ({
    case: c.description,
    events: results.get(c.name)!.events,
    eventsPerSec: Math.round(rate(c.name)!),
    overBaseline: ratio(c.name, c.baseline),
    cpu: results.get(c.name)!.cpuMicrosPerEvent,
    serverCpu: median(
      (runs.get(c.name) ?? [])
        .map((r) => r.pgCpuMicrosPerEvent ?? r.redisCpuMicrosPerEvent ?? NaN)
        .filter(Number.isFinite),
    ),
  }));
  const summary: Record<string, unknown> = {};
  for (const [name, [a, b]] of Object.entries(RATIOS)) summary[name] = ratio(a, b);
  // The same ratios from CPU time per event (baseline / case): what the throughput ratio would be
  // if the consumer had its cores to itself; much steadier on a busy machine.
  const cpuRatio = (a: string, b: string): number | null => {
    const x = cpuMedian(runs.get(a));
    const y = cpuMedian(runs.get(b));
    return x !== undefined && y !== undefined ? Number((y / x).toFixed(3)) : null;
  };
  for (const [name, [a, b]] of Object.entries(RATIOS)) summary[`${name}Cpu`] = cpuRatio(a, b);
  summary.eventsPerSec = Object.fromEntries(
    [...results].map(([k, v]) => [k, Math.round(v.eventsPerSec)]),
  );
  summary.cpuMicrosPerEvent = Object.fromEntries(
    [...results].map(([k, v]) => [k, Number(v.cpuMicrosPerEvent.toFixed(1))]),
  );
  // PostgreSQL server CPU (every postgres process, the whole case) per event: shared with
  // whatever else the server runs meanwhile, so an upper bound.
  summary.pgCpuMicrosPerEvent = serverCpu(runs, (r) => r.pgCpuMicrosPerEvent);
  // The Redis server's CPU (the whole case) per event: what the store costs on the cores the
  // consumer shares with it.
  summary.redisCpuMicrosPerEvent = serverCpu(runs, (r) => r.redisCpuMicrosPerEvent);
  summary.machineCpuMicrosPerEvent = serverCpu(runs, (r) => r.machineCpuMicrosPerEvent);
  summary.machineBusy = serverCpu(runs, (r) =>
    r.machineBusy === undefined ? undefined : 100 * r.machineBusy,
  );
  summary.rounds = ROUNDS;
  summary.pgRounds = PG_ROUNDS;
  summary.prefill = PREFILL;
  summary.prefillSettleMs = PREFILL_SETTLE_MS;
  summary.events = EVENTS;
  summary.slowEvents = SLOW_EVENTS;
  summary.partitions = PARTITIONS;
  summary.partitionsConsumedConcurrently = CONCURRENCY;

  if (JSON_OUTPUT) {
    console.log(JSON.stringify(summary));
    return;
  }
  console.log('');
  console.log(
    '| case | events | events/s | x no dedup | CPU µs/event | store server CPU µs/event |',
  );
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of rows)
    console.log(
      `| ${r.case} | ${r.events} | ${r.eventsPerSec.toLocaleString('en-US')} | ${r.overBaseline?.toFixed(2) ?? '—'} | ${r.cpu.toFixed(1)} | ${Number.isNaN(r.serverCpu) ? '—' : r.serverCpu.toFixed(1)} |`,
    );
  console.log('');
  for (const [name] of Object.entries(RATIOS))
    console.log(
      `${name}: ${String(summary[name])} (by CPU time: ${String(summary[`${name}Cpu`])})`,
    );
}

let pgDatabase: string | undefined;

/** Runs `fn` on a client connected to `url`, then disconnects. */
async function withPgClient<T>(
  url: string,
  fn: (client: import('pg').Client) => Promise<T>,
): Promise<T> {
  const { Client } = await import('pg');
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A database of this run for the PostgreSQL cases, created on first use. */
async function benchDatabase(): Promise<string> {
  const database = (pgDatabase ??= `bench_consumer_${RUN.replace(/\W/g, '_')}`);
  await withPgClient(`${PG_SERVER}/postgres`, async (admin) => {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${database}"`);
  });
  return `${PG_SERVER}/${database}`;
}

/**
 * Before a PostgreSQL case: `VACUUM ANALYZE` the bench database and `CHECKPOINT`, as pgbench vacuums
 * before a run. Otherwise autovacuum of the rows the previous case wrote, and the checkpoint they
 * trigger, land on whichever case runs next and compete with it for the two cores (seen here: the
 * second PostgreSQL case of a round lost 10–30% whichever it was).
 */
async function quiescePostgres(url: string): Promise<void> {
  await withPgClient(url, async (client) => {
    await client.query('VACUUM ANALYZE');
    await client.query('CHECKPOINT').catch(() => undefined); // needs pg_checkpoint or superuser
  });
  // Every commit waits for a WAL fsync: write the events just produced (in the broker's page cache)
  // back now rather than during the case. A precaution, for every PostgreSQL case alike: its effect
  // on the spread of rounds was within the noise.
  spawnSync('sync', { stdio: 'ignore' });
}

async function dropBenchDatabase(): Promise<void> {
  if (pgDatabase === undefined) return;
  const database = pgDatabase;
  await withPgClient(`${PG_SERVER}/postgres`, (admin) =>
    admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`),
  );
}

function cpuMedian(list: WorkerResult[] | undefined): number | undefined {
  if (!list?.length) return undefined;
  const sorted = list.map((r) => r.cpuMicrosPerEvent).sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** The run with the median throughput. */
function medianBy(list: WorkerResult[]): WorkerResult {
  const sorted = [...list].sort((a, b) => a.eventsPerSec - b.eventsPerSec);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/**
 * CPU time (user + system) of every `postgres` process of this machine and of its exited
 * children, in µs, from /proc (Linux; `undefined` elsewhere).
 */
function postgresCpuMicros(): number | undefined {
  return processCpuMicros((comm) => comm === 'postgres');
}

/** CPU time of the Redis server the bench uses (`redis-server` listening on REDIS_URL's port), in µs. */
function redisCpuMicros(): number | undefined {
  const port = new URL(REDIS_URL).port || '6379';
  return processCpuMicros((comm, pid) => {
    if (comm !== 'redis-server') return false;
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\u0000');
    return args.some((a) => a.endsWith(`:${port}`) || a === port);
  });
}

/** CPU time (user + system, and of exited children) of the processes `match` picks, in µs. */
function processCpuMicros(match: (comm: string, pid: string) => boolean): number | undefined {
  if (!existsSync('/proc/self/stat')) return undefined;
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      if (!match(stat.slice(stat.indexOf('(') + 1, close), pid)) continue;
      const fields = stat.slice(close + 2).split(' ');
      // utime, stime, and cutime, cstime (fields 14–17): the postmaster's children time holds the
      // backends that exited (a case's connections close when its worker does).
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    } catch {
      // exited meanwhile
    }
  }
  return (ticks * 1_000_000) / 100; // USER_HZ is 100 on Linux
}

/** The store server's CPU per event of one round, for the progress line. */
function serverNote(result: WorkerResult): string {
  const machine =
    result.machineCpuMicrosPerEvent !== undefined && result.machineBusy !== undefined
      ? `, machine ${result.machineCpuMicrosPerEvent.toFixed(1)} µs CPU/event (cores ${(100 * result.machineBusy).toFixed(0)}% busy)`
      : '';
  if (result.pgCpuMicrosPerEvent !== undefined)
    return `, PostgreSQL ${result.pgCpuMicrosPerEvent.toFixed(1)} µs CPU/event${machine}`;
  if (result.redisCpuMicrosPerEvent !== undefined)
    return `, Redis ${result.redisCpuMicrosPerEvent.toFixed(1)} µs CPU/event${machine}`;
  return machine;
}

/** Per case with a store server measured: the median of its rounds' server CPU µs/event. */
function serverCpu(
  runs: Map<string, WorkerResult[]>,
  of: (r: WorkerResult) => number | undefined,
): Record<string, number> {
  return Object.fromEntries(
    [...runs]
      .filter(([, list]) => list.some((r) => of(r) !== undefined))
      .map(([k, list]) => [
        k,
        Number(median(list.map((r) => of(r) ?? NaN).filter(Number.isFinite)).toFixed(1)),
      ]),
  );
}
