/**
 * npm run bench:redis [-- --json] [-- --ids N] [-- --ids-large N] [-- --consumer-rounds N] [-- --consumer-events N]
 * [-- --no-consumer]
 *
 * Redis memory and CPU of the Redis store's layouts, and what the layout costs a consumer:
 * - bytes per live id: a private redis-server (free loopback port, no maxmemory, stopped by pid at
 *   the end) is filled through the store's own batch claim and commit (`claimMany`, `commitMany`,
 *   the scripts a batch-mode consumer runs) with 60-character ids; `INFO memory` used_memory
 *   before and after, divided by the ids: 1 M and --ids-large (default 10 M) ids on layout v2,
 *   1 M on v1, each on an emptied server (ttl 1 h: every id is live);
 * - Redis CPU per id in batch mode: `usec` of EVALSHA over the 1 M fill (one `claimMany` and one
 *   `commitMany` share per id), divided by the ids;
 * - Redis CPU per claim: after the 1 M fill, 20,000 new ids claimed one by one through `claim()`,
 *   then 20,000 through the per-message path (claim, then a commit that rides in the next claim),
 *   `usec_per_call` of EVALSHA in `INFO commandstats` (reset before each); `old` is the `v1` layout
 *   (the scripts of the versions before layouts: a bare `SET NX` claim);
 * - consumer throughput, layout v2 ÷ v1, per message and in batch mode: bench:consumer's
 *   `redis-v2` ÷ `redis` and `redis-batch-v2` ÷ `redis-batch` (v1 is the default), and batch mode of
 *   each layout ÷ `batch-none`, run by this script (--consumer-rounds,
 *   default 7, interleaved; the ratio is the median of the per-round ratios: single rounds of the
 *   same code spread ±10–20% on a 2-core machine shared by the consumer, Redis and Kafka, so 3
 *   rounds' median moved 0.86–1.0 for a ratio whose targets sit at 0.95).
 * --json prints one line at the end (progress goes to stderr).
 * Run under `flock /tmp/bench.lock` on a shared machine.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../support/free-port';
import { RedisDedupStore, type DedupKey, type DedupTokenedKey } from '@nest-resilience/kafka-dedup';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const JSON_OUTPUT = args.includes('--json');
/** `--ids N`: the 1 M fills (smaller while developing: the figures are then not the targets'). */
const IDS = Number(flag('--ids') ?? 1_000_000);
const IDS_LARGE = Number(flag('--ids-large') ?? 10_000_000);
const CONSUMER_ROUNDS = Number(flag('--consumer-rounds') ?? 7);
const CONSUMER_EVENTS = flag('--consumer-events');
const RUN_CONSUMER = !args.includes('--no-consumer');
const TTL = 3_600_000;
const LEASE = 30_000;
const CHUNK = 1_000;
const IN_PARALLEL = 4;
const CPU_SAMPLE = 20_000;
const SCOPE = 'billing/orders.created';
const ROOT = join(__dirname, '..', '..');

const log = (line: string): void => (JSON_OUTPUT ? console.error(line) : console.log(line));

/** 60-character ids: a run-random 40-hex head, '-', the index on 19 digits. */
const HEAD = randomBytes(20).toString('hex');
const idOf = (phase: string, i: number): string =>
  `${HEAD.slice(0, 40 - phase.length)}${phase}-${String(i).padStart(19, '0')}`;

async function startRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined); // refused while the server starts: retried below
  for (let i = 0; ; i++) {
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch (error) {
      if (i > 100) throw error;
      probe.disconnect();
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  probe.disconnect();
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

async function evalshaUsecPerCall(
  redis: Redis,
): Promise<{ calls: number; usec: number; usecPerCall: number }> {
  const info = await redis.info('commandstats');
  const line = /cmdstat_evalsha:calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/.exec(info);
  return line
    ? { calls: Number(line[1]), usec: Number(line[2]), usecPerCall: Number(line[3]) }
    : { calls: 0, usec: 0, usecPerCall: 0 };
}

/** Fills `n` ids through claimMany + commitMany, a few chunks in flight. */
async function fill(store: RedisDedupStore, phase: string, n: number): Promise<void> {
  const started = Date.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const from = next;
      next = Math.min(n, next + CHUNK);
      const to = next;
      const keys: DedupKey[] = [];
      for (let i = from; i < next; i++) keys.push({ scope: SCOPE, id: idOf(phase, i) });
      const results = await store.claimMany(keys, LEASE);
      const done: DedupTokenedKey[] = [];
      results.forEach((r, i) => {
        if (r.status === 'claimed') done.push({ key: keys[i], token: r.token });
      });
      await store.commitMany(done, TTL);
      if (to % 1_000_000 === 0 || to === n)
        log(
          `  ${phase}: ${to.toLocaleString('en-US')} ids, ${((Date.now() - started) / 1000).toFixed(0)} s`,
        );
    }
  };
  await Promise.all(Array.from({ length: IN_PARALLEL }, worker));
}

/** used_memory per id after filling `n` ids into an emptied server. */
async function bytesPerId(url: string, layout: 'v1' | 'v2', n: number): Promise<number> {
  const admin = new Redis(url);
  await admin.flushall();
  const store = new RedisDedupStore({ url, layout, keyPrefix: 'bench:' }, TTL);
  await store.onModuleInit();
  const before = await usedMemory(admin);
  await admin.config('RESETSTAT');
  await fill(store, `${layout}m${n}`, n);
  const after = await usedMemory(admin);
  const perId = (after - before) / n;
  const batchUsec = (await evalshaUsecPerCall(admin)).usec / n;
  log(
    `${layout}: ${n.toLocaleString('en-US')} live ids, ${(after - before).toLocaleString('en-US')} B: ${perId.toFixed(1)} B/id; ` +
      `Redis CPU of claimMany + commitMany: ${batchUsec.toFixed(2)} µs per id`,
  );
  if (n === IDS) usecBatch[layout] = Number(batchUsec.toFixed(2));
  if (n === IDS) usec[layout] = await claimCpu(store, admin, layout);
  await store.close();
  admin.disconnect();
  return Number(perId.toFixed(1));
}

const usec: Record<string, { claim: number; perMessage: number }> = {};
/** Redis CPU (µs of EVALSHA) per id of the 1 M fill: one batch claim and one batch commit. */
const usecBatch: Record<string, number> = {};

/** Redis CPU of the claim script alone, and of the per-message path (claim + riding commit). */
async function claimCpu(
  store: RedisDedupStore,
  admin: Redis,
  layout: string,
): Promise<{ claim: number; perMessage: number }> {
  await admin.config('RESETSTAT');
  for (let i = 0; i < CPU_SAMPLE; i++)
    await store.claim({ scope: SCOPE, id: idOf(`c${layout}`, i) }, LEASE);
  const claim = await evalshaUsecPerCall(admin);
  await admin.config('RESETSTAT');
  for (let i = 0; i < CPU_SAMPLE; i++) {
    const key = { scope: SCOPE, id: idOf(`p${layout}`, i) };
    const r = await store.claim(key, LEASE);
    if (r.status === 'claimed') store.commit(key, r.token, TTL);
  }
  await new Promise((r) => setImmediate(r));
  const path = await evalshaUsecPerCall(admin);
  log(
    `${layout}: ${claim.usecPerCall} µs per claim script, ${path.usecPerCall} µs per script on the per-message path`,
  );
  return { claim: claim.usecPerCall, perMessage: path.usecPerCall };
}

/** bench:consumer's four Redis cases; its JSON line. */
function consumerRatios(): Promise<Record<string, unknown>> {
  const extra = CONSUMER_EVENTS ? ['--events', CONSUMER_EVENTS] : [];
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--disable-warning=TimeoutNegativeWarning',
        '--import',
        'tsx',
        join(ROOT, 'scripts', 'bench', 'consumer.bench.ts'),
        '--json',
        '--only',
        'batch-none,redis,redis-v2,redis-batch,redis-batch-v2',
        '--rounds',
        String(CONSUMER_ROUNDS),
        ...extra,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as Record<string, unknown>);
      } catch {
        reject(new Error(`bench:consumer exited with ${code}: ${out.slice(-2000)}`));
      }
    });
  });
}

async function main(): Promise<void> {
  const redis = await startRedis();
  let summary: Record<string, unknown>;
  try {
    const bytesPerId1M = await bytesPerId(redis.url, 'v2', IDS);
    const bytesPerIdLarge = await bytesPerId(redis.url, 'v2', IDS_LARGE);
    const oldBytesPerId1M = await bytesPerId(redis.url, 'v1', IDS);
    summary = {
      ...(IDS !== 1_000_000 ? { ids: IDS } : {}),
      bytesPerId1M,
      bytesPerId10M: IDS_LARGE === 10_000_000 ? bytesPerIdLarge : null,
      ...(IDS_LARGE !== 10_000_000 ? { bytesPerIdLarge, idsLarge: IDS_LARGE } : {}),
      oldBytesPerId1M,
      usecPerClaim: { old: usec.v1?.claim, new: usec.v2?.claim },
      usecPerMessageScripts: { old: usec.v1?.perMessage, new: usec.v2?.perMessage },
      usecPerIdBatch: { old: usecBatch.v1, new: usecBatch.v2 },
    };
  } finally {
    await redis.stop();
  }
  if (RUN_CONSUMER) {
    const consumer = await consumerRatios();
    Object.assign(summary, {
      perMessageOverOld: consumer.perMessageOverOld,
      batchOverOld: consumer.batchOverOld,
      perMessageOverOldCpu: consumer.perMessageOverOldCpu,
      batchOverOldCpu: consumer.batchOverOldCpu,
      redisBatchOverBatchNone: {
        old: consumer.redisBatchOverBatchNone,
        new: consumer.redisBatchV2OverBatchNone,
      },
      consumerEventsPerSec: consumer.eventsPerSec,
      consumerRounds: CONSUMER_ROUNDS,
    });
  }
  if (JSON_OUTPUT) console.log(JSON.stringify(summary));
  else console.log(JSON.stringify(summary, null, 2));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
