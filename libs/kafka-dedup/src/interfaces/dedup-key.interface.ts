/**
 * What a store deduplicates: an event id inside a scope (consumer group + topic), so the same id on
 * two topics, or for two consumer groups sharing one Redis, never collides.
 */
export interface DedupKey {
  /** `<group>/<topic>` (or `<topic>` without a group), or a scope chosen by the caller. */
  readonly scope: string;
  /** The event id: a string, or the raw bytes when the header arrived binary. */
  readonly id: string | Buffer;
}

/** Outcome of {@link DedupStore.claim}. */
export type ClaimResult =
  | { readonly status: 'claimed'; readonly token: string }
  | { readonly status: 'duplicate' }
  | { readonly status: 'in-flight' };

/** A value or a promise of it: the memory store answers synchronously, Redis asynchronously. */
export type MaybePromise<T> = T | Promise<T>;

/** A claimed key and the token that owns the claim (batch commit/release, lease renewal). */
export interface DedupTokenedKey {
  readonly key: DedupKey;
  readonly token: string;
}

/** Outcome of {@link DedupStore.runInTransaction}: a duplicate, or the handler's result. */
export type TransactionOutcome<T> = { duplicate: true } | { duplicate: false; result: T };
