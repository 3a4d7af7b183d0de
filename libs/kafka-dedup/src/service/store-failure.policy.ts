import { Logger } from '@nestjs/common';
import type { DedupMetrics } from '../dedup.metrics';
import { DedupStoreError } from '../errors/dedup.errors';
import type { StoreErrorPolicy } from '../interfaces/dedup-options.interface';
import { RateLimitedLogger } from '../logging/rate-limited-logger';
import type { DedupStore } from '../stores/dedup.store';

/**
 * What a failed store call means for the message (`onStoreError`): every failure is counted and
 * logged (one line, then a summary per interval); a claim's failure is thrown as a
 * {@link DedupStoreError} under `'throw'`, else the message is processed untracked. @internal
 */
export class StoreFailurePolicy {
  private readonly warnings = new RateLimitedLogger(new Logger('KafkaDedup'));

  constructor(
    private readonly store: DedupStore,
    private readonly metrics: DedupMetrics,
    private readonly onStoreError: StoreErrorPolicy,
  ) {}

  /**
   * Applies `onStoreError`: returns null (process untracked) or throws {@link DedupStoreError}.
   * @param mayThrow false where throwing would not help (commit, release, renew): logged only.
   */
  failed(operation: string, topic: string, error: unknown, mayThrow = true): null {
    this.metrics.storeErrors.inc({ topic, store: this.store.name });
    const storeError = new DedupStoreError(operation, this.store.name, { cause: error });
    if (mayThrow && this.onStoreError === 'throw') throw storeError;
    // One line, then a summary per interval: an outage must not write a line per message.
    this.warnings.warn(
      operation,
      `${storeError.message}${mayThrow ? ' — processing without deduplication (onStoreError: process)' : ''}`,
    );
    return null;
  }

  /**
   * A transactional store's own failure (unreachable, aborted transaction, failed commit): counted
   * and logged; the caller throws it whatever `onStoreError` says, as the handler's writes live in
   * that database and only a redelivery is safe.
   */
  redelivered(error: DedupStoreError, topic: string): void {
    this.metrics.storeErrors.inc({ topic, store: this.store.name });
    this.warnings.warn(error.operation, `${error.message} — the message will be redelivered`);
  }
}
