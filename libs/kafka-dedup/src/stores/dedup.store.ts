import type {
  ClaimResult,
  DedupKey,
  DedupTokenedKey,
  MaybePromise,
  TransactionOutcome,
} from '../interfaces/dedup-key.interface';

/** Size and time caps of one batch transaction (batch mode on a transactional store). */
export interface BatchTransactionLimits {
  /** Messages per transaction at most. */
  readonly maxMessages: number;
  /** A transaction stops taking messages once its handlers have run this long (ms). */
  readonly maxMs: number;
}

/**
 * The body of a batch transaction: told which keys it claimed (`true`: new, run its handler;
 * `false`: already done), it runs the handlers and answers how many keys (from the first) it
 * reached; the claims of keys after those are withdrawn before the commit.
 */
export type BatchTransactionBody = (claimed: readonly boolean[]) => Promise<number>;

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

  /** Check-and-mark in one step: marks `key` done for `ttl` ms; returns false when it already was. */
  abstract markIfAbsent(key: DedupKey, ttl: number): MaybePromise<boolean>;

  /** Ids remembered (done records). May be approximate or costly for remote stores. */
  abstract size(): MaybePromise<number>;

  /**
   * Claims several keys at once (batch mode): one result per key, in order. The default loops over
   * {@link claim}; remote stores override it with one round trip. A key repeated in `keys` is
   * claimed once: its later copies answer `in-flight`.
   */
  claimMany(keys: readonly DedupKey[], leaseTtl: number): MaybePromise<ClaimResult[]> {
    return loop(keys, (key) => this.claim(key, leaseTtl));
  }

  /** Commits several claims at once (batch mode). The default loops over {@link commit}. */
  commitMany(items: readonly DedupTokenedKey[], ttl: number): MaybePromise<void> {
    return ignore(loop(items, (item) => this.commit(item.key, item.token, ttl)));
  }

  /** Releases several claims at once (batch mode). The default loops over {@link release}. */
  releaseMany(items: readonly DedupTokenedKey[]): MaybePromise<void> {
    return ignore(loop(items, (item) => this.release(item.key, item.token)));
  }

  /**
   * Synchronous in-process stores may define this: what {@link claim} would answer now (`new` for
   * a claim it would grant), without recording a claim. `DedupService` then runs a handler that
   * returns synchronously without any claim (nothing else can run in between) and commits it with
   * an empty token; a handler that goes asynchronous is claimed with {@link claim} before it
   * yields. Stores answering asynchronously must not define it.
   */
  peek?(key: DedupKey): ClaimResult['status'] | 'new';

  /**
   * Transactional stores (e.g. a database inbox) define this: claim `key`, run `fn` and commit in
   * ONE transaction, so the handler's writes and the done record commit or roll back together.
   * When defined, `DedupService.execute()` routes every deduplicated handler call through it
   * instead of claim → handler → commit. Answers `{ duplicate: true }` without running `fn` when
   * the key is already done; rejects (after rolling back) when `fn` throws.
   */
  runInTransaction?<T>(
    key: DedupKey,
    ttl: number,
    fn: () => Promise<T>,
  ): Promise<TransactionOutcome<T>>;

  /**
   * Transactional stores with batch transactions switched on define both: `DedupKafkaServer` then
   * runs a chunk of a fetched batch in ONE transaction — every key claimed in one statement,
   * `body` (the handlers) on that transaction, one commit. A store failure (claim, commit, an
   * aborted transaction) rejects with a `DedupStoreError` after rolling back; `body`'s own error
   * rolls back and passes through as it is.
   */
  readonly batchTransactions?: BatchTransactionLimits;
  runBatchInTransaction?(
    keys: readonly DedupKey[],
    ttl: number,
    body: BatchTransactionBody,
  ): Promise<void>;

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

/**
 * Applies `fn` to each item in order; synchronous while `fn` answers synchronously (the memory
 * store), a Promise from the first asynchronous answer on.
 */
function loop<I, R>(items: readonly I[], fn: (item: I) => MaybePromise<R>): MaybePromise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i++) {
    const result = fn(items[i]);
    if (result instanceof Promise) return finishAsync(items, fn, results, i, result);
    results.push(result);
  }
  return results;
}

async function finishAsync<I, R>(
  items: readonly I[],
  fn: (item: I) => MaybePromise<R>,
  results: R[],
  from: number,
  pending: Promise<R>,
): Promise<R[]> {
  results[from] = await pending;
  for (let i = from + 1; i < items.length; i++) results[i] = await fn(items[i]);
  return results;
}

function ignore(result: MaybePromise<unknown>): MaybePromise<void> {
  return result instanceof Promise ? result.then(() => undefined) : undefined;
}
