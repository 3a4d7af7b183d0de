import type { DedupKey } from '../interfaces/dedup-key.interface';

/** Where an event stands before its handler runs. */
export type DedupDecision =
  /** This caller owns the event: run the handler, then `commit()` or `release()`. */
  | {
      readonly action: 'process';
      readonly key: DedupKey;
      readonly token: string;
      readonly topic: string;
    }
  /** Already processed: skip the handler (the offset still advances). */
  | { readonly action: 'skip' }
  /** The store failed and `onStoreError` is `'process'`: run the handler, nothing to commit. */
  | { readonly action: 'process-untracked' };

/** Context of one acquisition, for metrics, logs and Kafka heartbeats while waiting. */
export interface AcquireContext {
  /** Metric label. @default 'none' */
  topic?: string;
  /** Called at most every 3 s while waiting for an in-flight copy (Kafka session keep-alive). */
  heartbeat?: () => Promise<void> | void;
}

/** Returned by {@link DedupService.execute} instead of running the handler of a duplicate. */
export const DUPLICATE: unique symbol = Symbol('kafka-dedup:duplicate');
/** The type of {@link DUPLICATE}. */
export type Duplicate = typeof DUPLICATE;
