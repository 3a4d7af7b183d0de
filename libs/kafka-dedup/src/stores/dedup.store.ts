import type { ClaimResult, DedupKey, MaybePromise } from '../interfaces/dedup-key.interface';

/** What one cleanup run did. */
export interface CleanupResult {
  removed: number;
  /** Wall time of the whole run, in ms. */
  durationMs: number;
  /** Longest single event-loop block of the run, in ms. */
  maxPauseMs: number;
}

/**
 * Where processed and in-flight event ids live. Abstract class and injection token at once:
 * `@Inject(DedupStore)`, or pass your own subclass instance as `store`.
 *
 * Protocol: `claim` before the handler (atomic: one caller wins), `commit` after it succeeded (the
 * id is remembered for the TTL), `release` when it threw (the redelivery is processed). `commit`,
 * `release` and `renew` only act when `token` still owns the claim.
 */
export abstract class DedupStore {
  /** Short name used in metric labels and logs (`memory`, `redis`, …). */
  abstract readonly name: string;

  /** Claims `key` for `leaseTtl` ms, unless it is done (`duplicate`) or claimed (`in-flight`). */
  abstract claim(key: DedupKey, leaseTtl: number): MaybePromise<ClaimResult>;

  /** Marks `key` done for `ttl` ms and drops the claim held by `token`. */
  abstract commit(key: DedupKey, token: string, ttl: number): MaybePromise<void>;

  /** Drops the claim held by `token` so the next delivery is processed. */
  abstract release(key: DedupKey, token: string): MaybePromise<void>;

  /** Extends claims still held by their tokens to `leaseTtl` ms from now. */
  abstract renew(
    claims: ReadonlyArray<{ key: DedupKey; token: string }>,
    leaseTtl: number,
  ): MaybePromise<void>;

  /** The seed's check-and-mark: marks `key` done for `ttl` ms; returns false when it already was. */
  abstract markIfAbsent(key: DedupKey, ttl: number): MaybePromise<boolean>;

  /** Ids remembered (done records). May be approximate or costly for remote stores. */
  abstract size(): MaybePromise<number>;

  /** Removes expired entries without blocking the event loop for more than `sliceMs` at a time. */
  cleanup(_sliceMs: number): MaybePromise<CleanupResult> {
    return { removed: 0, durationMs: 0, maxPauseMs: 0 };
  }

  /** Entries evicted to respect a size bound, since start (0 when the store has no bound). */
  get evictions(): number {
    return 0;
  }

  /** Releases connections and timers. */
  close(): MaybePromise<void> {
    return undefined;
  }
}
