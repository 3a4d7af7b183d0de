/**
 * Fills a Redis store through its own batch path, as a batch-mode consumer writes: `claimMany` then
 * `commitMany` per chunk, `parallel` chunks in flight. Shared by `bench:redis` (its memory and CPU
 * fills) and `bench:consumer --prefill` (`redis-prefill.ts`). Every id must be new: one that is not
 * claimed would leave a figure computed over ids that were never written, so it throws.
 */
import type { DedupKey, DedupTokenedKey, RedisDedupStore } from '@nest-resilience/kafka-dedup';

export interface FillOptions {
  /** Ids per `claimMany` / `commitMany`. */
  chunk: number;
  /** Chunks in flight at once (default 1). */
  parallel?: number;
  /** Lease of the claims and TTL of the commits (ms). */
  leaseTtl: number;
  ttl: number;
  /** Runs before each chunk's claim (e.g. to shift the store's clock). */
  beforeChunk?: () => void;
  /** After each chunk, with the ids written so far by that worker's chunk end. */
  onProgress?: (written: number) => void;
}

export async function fillStore(
  store: RedisDedupStore,
  keyOf: (i: number) => DedupKey,
  n: number,
  options: FillOptions,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const from = next;
      next = Math.min(n, next + options.chunk);
      const to = next;
      const keys: DedupKey[] = [];
      for (let i = from; i < to; i++) keys.push(keyOf(i));
      options.beforeChunk?.();
      const results = await store.claimMany(keys, options.leaseTtl);
      const done: DedupTokenedKey[] = results.map((r, i) => {
        if (r.status !== 'claimed') throw new Error(`fill: ${keys[i].id} was ${r.status}`);
        return { key: keys[i], token: r.token };
      });
      await store.commitMany(done, options.ttl);
      options.onProgress?.(to);
    }
  };
  await Promise.all(Array.from({ length: options.parallel ?? 1 }, worker));
}
