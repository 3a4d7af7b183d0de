import { DedupStoreError } from '../errors/dedup.errors';
import type { DedupKey, TransactionOutcome } from '../interfaces/dedup-key.interface';
import type { BatchTransactionBody, DedupStore } from '../stores/dedup.store';
import type { TopicCounters } from './dedup.counters';
import { DUPLICATE } from './dedup.decision';
import { promiseOf } from './result.settler';
import type { StoreFailurePolicy } from './store-failure.policy';

/**
 * The path of a transactional store (`runInTransaction`: the PostgreSQL inbox): claim, handler and
 * done record run in ONE transaction of the store, so the handler's writes and the record commit or
 * roll back together. @internal
 */
export class TransactionalRun {
  constructor(
    private readonly store: DedupStore,
    private readonly ttl: number,
    private readonly failures: StoreFailurePolicy,
  ) {}

  /** Runs `fn` once per key: {@link DUPLICATE} for a duplicate, else what `fn` settled with. */
  async run(
    key: DedupKey,
    fn: () => unknown,
    topic: string,
    counters: TopicCounters,
  ): Promise<unknown> {
    let outcome: TransactionOutcome<unknown>;
    try {
      outcome = await this.store.runInTransaction!(key, this.ttl, () => promiseOf(fn));
    } catch (error) {
      // The store's own failures (unreachable, aborted transaction, failed commit) are counted and
      // always thrown whatever onStoreError says: the handler's writes live in that database, so
      // the only safe outcome is a redelivery. A handler's error passes through as it is.
      if (error instanceof DedupStoreError) this.failures.redelivered(error, topic);
      throw error;
    }
    if (outcome.duplicate) {
      counters.deduplicated++;
      return DUPLICATE;
    }
    counters.processed++;
    return outcome.result;
  }

  /**
   * A chunk of a batch in one transaction of the store (`runBatchInTransaction`); the store's own
   * failures are counted and thrown (the chunk is redelivered), the body's pass through.
   */
  async runBatch(
    keys: readonly DedupKey[],
    body: BatchTransactionBody,
    topic: string,
  ): Promise<void> {
    try {
      await this.store.runBatchInTransaction!(keys, this.ttl, body);
    } catch (error) {
      if (error instanceof DedupStoreError) this.failures.redelivered(error, topic);
      throw error;
    }
  }
}
