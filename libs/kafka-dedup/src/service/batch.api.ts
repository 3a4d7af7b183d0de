import type { ClaimResult, DedupKey, DedupTokenedKey } from '../interfaces/dedup-key.interface';
import type { DedupStore } from '../stores/dedup.store';
import type { LastKeyCache } from '../util/last-key.cache';
import type { TopicCounters } from './dedup.counters';
import { LeaseGroup, type LeaseRenewal } from './lease.renewal';
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

  /** A group of claims renewed together until {@link closeGroup} (a batch's). */
  openGroup(): LeaseGroup {
    const group = new LeaseGroup();
    this.leases.holdGroup(group);
    return group;
  }

  /** Stops renewing the claims of `group` (its batch committed or released them all). */
  closeGroup(group: LeaseGroup): void {
    this.leases.dropGroup(group);
  }

  /**
   * Claims the ids of a batch in one store call (`claimMany`). Store failures follow
   * `onStoreError`: `null` (process the batch untracked) or a thrown `DedupStoreError`.
   * Claimed tokens are held (lease renewal) until {@link commit} / {@link release} — with `group`,
   * until the group is closed (nothing per id).
   */
  async claim(
    keys: readonly DedupKey[],
    topic: string,
    group?: LeaseGroup,
  ): Promise<ClaimResult[] | null> {
    let results: ClaimResult[];
    try {
      results = await this.store.claimMany(keys, this.options.leaseTtl);
    } catch (error) {
      return this.failures.failed('claimMany', topic, error);
    }
    if (group !== undefined) {
      group.chunks.push({ keys, results });
      return results;
    }
    for (let i = 0; i < results.length; i++) {
      const result = results[i];
      if (result.status === 'claimed') this.leases.hold(keys[i], result.token);
    }
    return results;
  }

  /**
   * Commits processed claims of a batch in one store call; failures are logged, never thrown.
   * `grouped`: claimed with a group (nothing to stop renewing per id).
   */
  async commit(items: readonly DedupTokenedKey[], topic: string, grouped = false): Promise<void> {
    if (items.length === 0) return;
    if (!grouped) for (const item of items) this.leases.unhold(item.token);
    try {
      await this.store.commitMany(items, this.options.ttl);
    } catch (error) {
      this.failures.failed('commitMany', topic, error, false);
    }
  }

  /** Releases claims of a batch (failed or never reached); failures are logged, never thrown. */
  async release(items: readonly DedupTokenedKey[], topic: string, grouped = false): Promise<void> {
    if (items.length === 0) return;
    if (!grouped) for (const item of items) this.leases.unhold(item.token);
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
