/**
 * Puts a Redis case of `bench:consumer` in a running consumer's state before it is timed: its key
 * prefix already remembers `n` ids, written through the store's own batch claim and commit
 * (`claimMany` + `commitMany`, chunks of 500, 60-character ids, the bench's 10 min window).
 *
 * - `v1`: `n` done keys (one per id) — what a `v1` consumer's Redis holds: a key table that large
 *   (~200 MB at 1M) is looked up by every `SET NX`, `GET` and `SET`.
 * - `v2`: `n / 2` ids in the previous bucket's groups and `n / 2` in the current one's, so the
 *   groups a claim's look-up in the previous bucket meets are full. The store's reckoning of Redis'
 *   clock is shifted back one bucket before each chunk of the first half (white-box: its private
 *   `RedisIdArgs`, whose own clock sync may reset it in between), so those ids land where a store
 *   running a bucket earlier would have put them. In the last ~8% of a bucket (window + 2 s after its
 *   start) the previous bucket's groups have expired and no claim looks there: the result says which.
 * - `dual`: as `v2`, and every id is a `v1` done key too.
 *
 * Then waits `settleMs`: Redis grows its key table incrementally (active rehashing takes ~1 ms per
 * 100 ms), which would otherwise go on while the case is timed. Measured at 1M ids, in one run of
 * three rounds: `v1`'s Redis CPU per batch-mode event 12.6–13.4 µs without the wait, 11.6–11.9 with
 * 15 s (runs differ by ~10% from each other).
 */
import { RedisDedupStore } from '@nest-resilience/kafka-dedup';
import { fillStore } from './redis-fill';

/** The bench's window (`ttl` of every case, `consumer.worker.ts`). */
const WINDOW_MS = 600_000;
/** The clock margin of the `v2` scripts (`clockMarginMs`). */
const MARGIN_MS = 2_000;
const CHUNK = 500;

/** The store's private clock reckoning, shifted for the previous bucket's half. */
interface ClockArgs {
  offsetMs: number;
  bucketMs: number;
}

/** What a prefill left: `v2`, `dual`: whether claims look in the previous bucket's (full) groups now. */
export interface Prefilled {
  previousBucketLooked?: boolean;
}

export async function prefillRedis(
  url: string,
  keyPrefix: string,
  layout: 'v1' | 'v2' | 'dual',
  n: number,
  settleMs: number,
): Promise<Prefilled> {
  const store = new RedisDedupStore({ url, keyPrefix, layout }, WINDOW_MS);
  await store.onModuleInit();
  let clockAt: { offset: number; bucket: number } | undefined;
  try {
    const fill = (phase: string, count: number, beforeChunk?: () => void): Promise<void> =>
      fillStore(
        store,
        (i) => ({
          scope: 'prefill/orders',
          id: `${phase}-${String(i).padStart(12, '0')}-${'x'.repeat(40)}`,
        }),
        count,
        { chunk: CHUNK, leaseTtl: 30_000, ttl: WINDOW_MS, beforeChunk },
      );
    if (layout === 'v1') await fill('v1', n);
    else {
      const clock = (store as unknown as { args?: Partial<ClockArgs> }).args;
      if (typeof clock?.offsetMs !== 'number' || typeof clock.bucketMs !== 'number')
        throw new Error('prefill: the store no longer keeps args.offsetMs / args.bucketMs');
      const args = clock as ClockArgs;
      const offset = args.offsetMs;
      clockAt = { offset, bucket: args.bucketMs };
      try {
        await fill('previous', Math.floor(n / 2), () => {
          args.offsetMs = offset - args.bucketMs;
        });
      } finally {
        args.offsetMs = offset;
      }
      await fill('current', n - Math.floor(n / 2));
    }
  } finally {
    await store.close();
  }
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  if (clockAt === undefined) return {};
  const now = Date.now() + clockAt.offset;
  const intoBucket = now - Math.floor(now / clockAt.bucket) * clockAt.bucket;
  return { previousBucketLooked: intoBucket < WINDOW_MS + MARGIN_MS };
}
