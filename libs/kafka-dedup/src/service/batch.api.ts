import type { ClaimResult, DedupKey, DedupTokenedKey } from '../interfaces/dedup-key.interface';
import type { DedupStore } from '../stores/dedup.store';
import type { LastKeyCache } from '../util/last-key.cache';
import type { TopicCounters } from './dedup.counters';
import type { LeaseRenewal } from './lease.renewal';
import type { StoreFailurePolicy } from './store-failure.policy';

/**
 * The batch side of the deduplicator (batch mode's `DedupKafkaServer`): the ids of many messages
 * claimed, committed or released in one store call each; claimed ids are renewed until committed
 * or released. @internal
 */
export class BatchApi {
  constructor(
    private readonly store: DedupStore,
    private readonly options: { readonly ttl: number; readonly leaseTtl: number },
    private readonly leases: LeaseRenewal,
    private readonly failures: StoreFailurePolicy,
    private readonly counters: LastKeyCache<string, TopicCounters>,
  ) {}

  /**
   * Claims the ids of a batch in one store call (`claimMany`). Store failures follow
   * `onStoreError`: `null` (process the batch untracked) or a thrown `DedupStoreError`.
   * Claimed tokens are held (lease renewal) until {@link commit} / {@link release}.
   */
  async claim(keys: readonly DedupKey[], topic: string): Promise<ClaimResult[] | null> {
    let results: ClaimResult[];
    try {
      results = await this.store.claimMany(keys, this.options.leaseTtl);
    } catch (error) {
      return this.failures.failed('claimMany', topic, error);
    }
    for (let i = 0; i < results.length; i++) {
      const result = results[i];
      if (result.status === 'claimed') this.leases.hold(keys[i], result.token);
    }
    return results;
  }

  /** Commits processed claims of a batch in one store call; failures are logged, never thrown. */
  async commit(items: readonly DedupTokenedKey[], topic: string): Promise<void> {
    if (items.length === 0) return;
    for (const item of items) this.leases.unhold(item.token);
    try {
      await this.store.commitMany(items, this.options.ttl);
    } catch (error) {
      this.failures.failed('commitMany', topic, error, false);
    }
  }

  /** Releases claims of a batch (failed or never reached); failures are logged, never thrown. */
  async release(items: readonly DedupTokenedKey[], topic: string): Promise<void> {
    if (items.length === 0) return;
    for (const item of items) this.leases.unhold(item.token);
    try {
      await this.store.releaseMany(items);
    } catch (error) {
      this.failures.failed('releaseMany', topic, error, false);
    }
  }

  /** Counts a batch's messages processed (claimed in {@link claim}), skipped or in flight. */
  count(topic: string, processed: number, deduplicated: number, inFlight: number): void {
    const counters = this.counters.get(topic);
    counters.processed += processed;
    counters.deduplicated += deduplicated;
    counters.inFlightConflicts += inFlight;
  }
}
