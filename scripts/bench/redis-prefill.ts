/**
 * Puts a Redis case of `bench:consumer` in a running consumer's state before it is timed: its key
 * prefix already remembers `n` ids, written through the store's own batch claim and commit
 * (`claimMany` + `commitMany`, chunks of 500, 60-character ids, the bench's 10 min window).
 *
 * - `v1`: `n` done keys (one per id) — what a `v1` consumer's Redis holds: a key table that large
 *   (~200 MB at 1M) is looked up by every `SET NX`, `GET` and `SET`.
 * - `v2` (and `dual`): `n / 2` ids in the previous bucket's groups and `n / 2` in the current
 *   one's — mid-bucket, the groups a claim's look-up in the previous bucket meets are full. The
 *   store's reckoning of Redis' clock is shifted back one bucket for the first half (white-box: its
 *   private `RedisIdArgs`, read again from Redis by its next `TIME`, a minute later at most), so
 *   those ids land where a store running a bucket earlier would have put them.
 *
 * Then waits `settleMs`: Redis grows its key table incrementally (active rehashing takes ~1 ms per
 * 100 ms), which would otherwise go on while the case is timed. Measured at 1M ids: `v1`'s Redis
 * CPU per batch-mode event 12.6–13.4 µs without the wait, 11.6–11.9 with 15 s.
 */
import { RedisDedupStore, type DedupKey, type DedupTokenedKey } from '@nest-resilience/kafka-dedup';

/** The bench's window (`ttl` of every case, `consumer.worker.ts`). */
const WINDOW_MS = 600_000;
const CHUNK = 500;

/** The store's private clock reckoning, shifted for the previous bucket's half. */
interface ClockArgs {
  offsetMs: number;
  bucketMs: number;
}

export async function prefillRedis(
  url: string,
  keyPrefix: string,
  layout: 'v1' | 'v2' | 'dual',
  n: number,
  settleMs: number,
): Promise<void> {
  if (n <= 0) return;
  const store = new RedisDedupStore({ url, keyPrefix, layout }, WINDOW_MS);
  await store.onModuleInit();
  try {
    const fill = async (phase: string, count: number): Promise<void> => {
      for (let from = 0; from < count; from += CHUNK) {
        const keys: DedupKey[] = [];
        for (let i = from; i < Math.min(count, from + CHUNK); i++)
          keys.push({
            scope: 'prefill/orders',
            id: `${phase}-${String(i).padStart(12, '0')}-${'x'.repeat(40)}`,
          });
        const results = await store.claimMany(keys, 30_000);
        const done: DedupTokenedKey[] = [];
        results.forEach((r, i) => {
          if (r.status === 'claimed') done.push({ key: keys[i], token: r.token });
        });
        await store.commitMany(done, WINDOW_MS);
      }
    };
    if (layout === 'v1') await fill('v1', n);
    else {
      const clock = (store as unknown as { args: ClockArgs }).args;
      const offset = clock.offsetMs;
      clock.offsetMs = offset - clock.bucketMs;
      try {
        await fill('previous', Math.floor(n / 2));
      } finally {
        clock.offsetMs = offset;
      }
      await fill('current', n - Math.floor(n / 2));
    }
  } finally {
    await store.close();
  }
  await new Promise((resolve) => setTimeout(resolve, settleMs));
}
