/**
 * npm run bench:dedup [-- --json] [-- --events N]
 *
 * One workload (N events, ~20% duplicates of recent ids, ~30-character ids built as fresh strings
 * per event, the way Nest's Kafka parser hands headers over) through: this library's memory store,
 * lru-cache@11 (has+set with ttl), @isaacs/ttlcache, and a plain Map. Each runs in its own child
 * process (clean heap) and reports ops/s, bytes per live entry and the longest event-loop pause of
 * its expiry/cleanup with N live entries.
 */
import { execFileSync } from 'node:child_process';
import { LRUCache } from 'lru-cache';
import { TTLCache } from '@isaacs/ttlcache';
import { MemoryDedupStore } from '../../libs/kafka-dedup/src/stores/memory.store';

interface Result {
  impl: string;
  opsPerSec: number;
  bytesPerEntry: number;
  maxCleanupPauseMs: number;
  entries: number;
  duplicatesSeen: number;
}

interface Impl {
  /** Returns true when the id is new (and records it). */
  checkAndMark(id: string): boolean;
  size(): number;
  /** Expires everything (clock moved past the TTL) and returns the longest pause, in ms. */
  expireAll(): Promise<number>;
}

const TTL = 3_600_000;
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const EVENTS = Number(flag('--events') ?? 1_000_000);
const ROUNDS = Number(flag('--rounds') ?? 5);

function makeImpl(name: string, clock: { now: number }): Impl {
  switch (name) {
    case 'kafka-dedup memory': {
      const store = new MemoryDedupStore(EVENTS, () => clock.now);
      return {
        checkAndMark: (id) => store.markIfAbsent({ scope: 'users.cdc', id }, TTL),
        size: () => store.size(),
        expireAll: async () => {
          clock.now += TTL + 1;
          return (await store.cleanup(2)).maxPauseMs;
        },
      };
    }
    case 'lru-cache@11': {
      const cache = new LRUCache<string, true>({
        max: EVENTS,
        ttl: TTL,
        ttlAutopurge: false,
        perf: { now: () => clock.now },
      });
      return {
        checkAndMark: (id) => {
          if (cache.has(id)) return false;
          cache.set(id, true);
          return true;
        },
        size: () => cache.size,
        expireAll: async () => {
          clock.now += TTL + 1;
          const t = performance.now();
          cache.purgeStale();
          return performance.now() - t;
        },
      };
    }
    case '@isaacs/ttlcache': {
      const cache = new TTLCache<string, true>({ max: EVENTS, ttl: TTL });
      return {
        checkAndMark: (id) => {
          if (cache.has(id)) return false;
          cache.set(id, true);
          return true;
        },
        size: () => cache.size,
        expireAll: async () => {
          // ttlcache expires on its own timers against the real clock; measure its purge of all.
          const t = performance.now();
          cache.purgeToCapacity?.();
          cache.clear();
          return performance.now() - t;
        },
      };
    }
    case 'Map': {
      const map = new Map<string, number>();
      return {
        checkAndMark: (id) => {
          const expiry = map.get(id);
          if (expiry !== undefined && expiry > clock.now) return false;
          map.set(id, clock.now + TTL);
          return true;
        },
        size: () => map.size,
        expireAll: async () => {
          clock.now += TTL + 1;
          const t = performance.now();
          for (const [k, e] of map) if (e <= clock.now) map.delete(k); // the seed's O(n) scan
          return performance.now() - t;
        },
      };
    }
    default:
      throw new Error(`unknown impl ${name}`);
  }
}

/** Deterministic id sequence: ~20% repeat one of the last 1,000 new ids. */
function workload(): Int32Array {
  const seq = new Int32Array(EVENTS);
  let seed = 12345;
  const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  let next = 0;
  for (let i = 0; i < EVENTS; i++) {
    seq[i] = i > 1000 && rnd() < 0.2 ? next - 1 - Math.floor(rnd() * 1000) : next++;
  }
  return seq;
}

/** ~30-character id, a fresh string each time (like a decoded header). */
function idOf(n: number): string {
  return `evt-2026-11-26-${((n * 2654435761) >>> 0).toString(16).padStart(8, '0')}-${n.toString(36)}`;
}

function heapBytes(): number {
  (globalThis as { gc?: () => void }).gc?.();
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function runOne(name: string): Promise<Result> {
  // 1. Throughput: the event sequence, each id a fresh string built before timing (Nest's parser
  //    has already decoded the header when the interceptor runs).
  const seq = workload();
  const ids = Array.from(seq, (n) => Buffer.from(idOf(n)).toString());
  // ROUNDS rounds on a fresh store each; the median round counts (the first also warms the JIT).
  let duplicatesSeen = 0;
  const rounds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const impl = makeImpl(name, { now: Date.now() });
    duplicatesSeen = 0;
    const started = performance.now();
    for (let i = 0; i < EVENTS; i++) if (!impl.checkAndMark(ids[i])) duplicatesSeen++;
    rounds.push(performance.now() - started);
  }
  const elapsed = rounds.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)];
  ids.length = 0;
  // 2. Memory and cleanup with EVENTS live entries: ids built on the fly, so a store that keeps
  //    the key strings pays for them, as it would in production.
  const clock = { now: Date.now() };
  const before = heapBytes();
  const impl = makeImpl(name, clock);
  for (let i = 0; i < EVENTS; i++) impl.checkAndMark(idOf(i));
  const entries = impl.size();
  const bytes = heapBytes() - before;
  const pause = await impl.expireAll();
  return {
    impl: name,
    opsPerSec: Math.round(EVENTS / (elapsed / 1000)),
    bytesPerEntry: Math.round((bytes / entries) * 10) / 10,
    maxCleanupPauseMs: Math.round(Math.max(pause, 0) * 100) / 100,
    entries,
    duplicatesSeen,
  };
}

async function main(): Promise<void> {
  const impl = flag('--impl');
  if (impl) {
    process.stdout.write(JSON.stringify(await runOne(impl)) + '\n');
    return;
  }
  const names = ['kafka-dedup memory', 'lru-cache@11', '@isaacs/ttlcache', 'Map'];
  const results: Result[] = names.map((name) => {
    const out = execFileSync(
      process.execPath,
      [
        ...process.execArgv,
        __filename,
        '--impl',
        name,
        '--events',
        String(EVENTS),
        '--rounds',
        String(ROUNDS),
      ],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      },
    );
    return JSON.parse(out.trim().split('\n').pop()!) as Result;
  });
  const ours = results[0];
  const lru = results[1];
  console.log(
    `\nkafka-dedup store benchmark: ${EVENTS.toLocaleString()} events, ~20% duplicates of recent ids, TTL 1 h, median of ${ROUNDS} rounds\n`,
  );
  console.log(
    '| store | ops/s | vs lru-cache | bytes/entry | longest expiry pause (ms) | live entries | duplicates skipped (of the workload) |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    console.log(
      `| ${r.impl} | ${r.opsPerSec.toLocaleString()} | ${(r.opsPerSec / lru.opsPerSec).toFixed(2)}x | ${r.bytesPerEntry} | ${r.maxCleanupPauseMs} | ${r.entries.toLocaleString()} | ${r.duplicatesSeen.toLocaleString()} |`,
    );
  }
  const summary = {
    opsPerSec: ours.opsPerSec,
    opsRatioVsLruCache: Math.round((ours.opsPerSec / lru.opsPerSec) * 100) / 100,
    bytesPerEntry: ours.bytesPerEntry,
    maxCleanupPauseMs: ours.maxCleanupPauseMs,
    entries: ours.entries,
    targets: { opsRatioVsLruCache: '>= 2', bytesPerEntry: '<= 24', maxCleanupPauseMs: '<= 5' },
    results,
  };
  const ok =
    summary.opsRatioVsLruCache >= 2 &&
    summary.bytesPerEntry <= 24 &&
    summary.maxCleanupPauseMs <= 5;
  console.log(
    `\ntargets ${ok ? 'met' : 'NOT met'}: opsRatioVsLruCache >= 2, bytesPerEntry <= 24, maxCleanupPauseMs <= 5`,
  );
  if (args.includes('--json')) console.log(JSON.stringify(summary));
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
