import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { isObservable } from 'rxjs';
import { DEDUP_RESOLVED_OPTIONS } from './dedup.constants';
import { beforeCollect, DedupMetrics } from './dedup.metrics';
import type { ResolvedDedupOptions } from './dedup.options';
import { DedupInFlightTimeoutError } from './errors/dedup.errors';
import type {
  ClaimResult,
  DedupKey,
  DedupTokenedKey,
  MaybePromise,
} from './interfaces/dedup-key.interface';
import { BatchApi } from './service/batch.api';
import type { LeaseGroup } from './service/lease.renewal';
import { TopicCounterSet, type TopicCounters } from './service/dedup.counters';
import { DUPLICATE, type AcquireContext, type DedupDecision } from './service/dedup.decision';
import { InFlightWait } from './service/in-flight.wait';
import { LeaseRenewal } from './service/lease.renewal';
import { ResultSettler } from './service/result.settler';
import { StoreFailurePolicy } from './service/store-failure.policy';
import { TransactionalRun } from './service/transactional.run';
import { CleanupResult, DedupStore, type BatchTransactionBody } from './stores/dedup.store';
import type { LastKeyCache } from './util/last-key.cache';

const DEFAULT_SCOPE = 'default';

/**
 * The deduplicator: claim an event id before its handler runs, commit after it succeeded, release
 * when it threw, so a redelivered event is processed and a duplicate never is. The interceptor
 * uses it for Kafka handlers; inject it to deduplicate anything else.
 *
 * @example
 * const decision = await dedup.acquire({ scope: 'orders', id: event.id });
 * if (decision.action === 'skip') return;
 * try { await handle(event); await dedup.commit(decision); } catch (e) { await dedup.release(decision); throw e; }
 */
@Injectable()
export class DedupService implements OnApplicationShutdown {
  private readonly topics: TopicCounterSet;
  private readonly counters: LastKeyCache<string, TopicCounters>;
  private readonly failures: StoreFailurePolicy;
  private readonly leases: LeaseRenewal;
  private readonly settler: ResultSettler;
  private readonly batch: BatchApi;
  private readonly inFlight: InFlightWait;
  private readonly transactional: TransactionalRun;
  private cleanupRunning?: Promise<CleanupResult>;
  /** Adds the counts since the last scrape to the Prometheus counters. */
  private readonly flush = (): void => this.topics.flushTo(this.metrics);

  constructor(
    @Inject(DEDUP_RESOLVED_OPTIONS) private readonly options: ResolvedDedupOptions,
    readonly store: DedupStore,
    private readonly metrics: DedupMetrics,
  ) {
    // Created once: the hot path reaches them by plain method calls.
    this.topics = new TopicCounterSet(store);
    this.counters = this.topics.last;
    this.failures = new StoreFailurePolicy(store, metrics, options.onStoreError);
    this.leases = new LeaseRenewal(store, options.leaseTtl, this.failures);
    this.settler = new ResultSettler(store, options.ttl, this.leases, this.failures);
    this.batch = new BatchApi(store, options, this.leases, this.failures, this.counters);
    this.inFlight = new InFlightWait(store, options, this.failures);
    this.transactional = new TransactionalRun(store, options.ttl, this.failures);
    beforeCollect.add(this.flush);
  }

  /** False when `enabled: false` or `ttl: 0`: every event is processed. */
  get enabled(): boolean {
    return this.options.enabled;
  }

  /**
   * Check-and-mark in one step: true the first time an id is seen within the TTL, false after.
   * It marks the id *before* processing: if your processing fails, the id is still marked. Prefer
   * {@link run} or the interceptor, which only mark an id once its handler succeeded.
   */
  async processOrSkip(id: string | Buffer, scope = DEFAULT_SCOPE): Promise<boolean> {
    if (!this.enabled) return true;
    try {
      return await this.store.markIfAbsent({ scope, id }, this.options.ttl);
    } catch (error) {
      this.failures.failed('markIfAbsent', 'none', error);
      return true;
    }
  }

  /** Runs `fn` once per id: skipped (returns `undefined`) when the id was already processed. */
  async run<T>(
    key: DedupKey | string,
    fn: () => Promise<T> | T,
    context: AcquireContext = {},
  ): Promise<T | undefined> {
    const result = await this.execute(toKey(key), fn, context.topic, context.heartbeat);
    return result === DUPLICATE ? undefined : (result as T);
  }

  /**
   * The single entry point of every deduplicated handler call (`@Deduplicate()`, the
   * interceptor, batch mode without pre-claims, {@link run}): claim → `fn` → commit, release when
   * `fn` throws, wait (with heartbeats) for an in-flight copy. Returns {@link DUPLICATE} instead of
   * calling `fn` for a duplicate, else what `fn` returns: synchronously when the store and `fn`
   * answer synchronously (the memory store: no Promise on the path), a Promise when either is
   * asynchronous, an Observable (settled on complete/error) when `fn` returns one.
   * @param topic metric label.
   * @param heartbeat called at most every 3 s while waiting for an in-flight copy.
   * @internal
   */
  execute(
    key: DedupKey,
    fn: () => unknown,
    topic = 'none',
    heartbeat?: AcquireContext['heartbeat'],
  ): unknown {
    const counters = this.counters.get(topic);
    if (!this.options.enabled) {
      counters.processed++;
      return fn();
    }
    // Transactional stores (a database inbox): claim + handler + commit run in ONE transaction
    // of the store, so the handler's writes and the done record commit or roll back together.
    // Every deduplicated call passes here, so this branch covers them all.
    if (this.store.runInTransaction !== undefined)
      return this.transactional.run(key, fn, topic, counters);
    if (this.store.peek !== undefined)
      return this.executePeeked(key, fn, topic, heartbeat, counters);
    let claim: MaybePromise<ClaimResult>;
    try {
      claim = this.store.claim(key, this.options.leaseTtl);
    } catch (error) {
      this.failures.failed('claim', topic, error);
      counters.processed++;
      return fn();
    }
    if (claim instanceof Promise) {
      return claim.then(
        (result) => this.afterClaim(key, result, fn, topic, heartbeat, counters),
        (error: unknown) => {
          this.failures.failed('claim', topic, error);
          counters.processed++;
          return fn();
        },
      );
    }
    return this.afterClaim(key, claim, fn, topic, heartbeat, counters);
  }

  /**
   * Claims the ids of a batch in one store call (`claimMany`). Store failures follow
   * `onStoreError`: `null` (process the batch untracked) or a thrown `DedupStoreError`.
   * Claimed tokens are held (lease renewal) until {@link commitBatch} / {@link releaseBatch}.
   * @internal
   */
  claimBatch(
    keys: readonly DedupKey[],
    topic: string,
    group?: LeaseGroup,
  ): Promise<ClaimResult[] | null> {
    return this.batch.claim(keys, topic, group);
  }

  /**
   * A group of batch claims renewed together until {@link closeLeaseGroup}: `claimBatch` with it
   * holds no lease per id, and its commits and releases pass `grouped`. @internal
   */
  openLeaseGroup(): LeaseGroup {
    return this.batch.openGroup();
  }

  /** @internal */
  closeLeaseGroup(group: LeaseGroup): void {
    this.batch.closeGroup(group);
  }

  /** Commits processed claims of a batch in one store call; failures are logged, never thrown. @internal */
  commitBatch(items: readonly DedupTokenedKey[], topic: string, grouped = false): Promise<void> {
    return this.batch.commit(items, topic, grouped);
  }

  /** Releases claims of a batch (failed or never reached); failures are logged, never thrown. @internal */
  releaseBatch(items: readonly DedupTokenedKey[], topic: string, grouped = false): Promise<void> {
    return this.batch.release(items, topic, grouped);
  }

  /** Runs a chunk of a batch in one store transaction (`batchTransactions`). @internal */
  runBatchTransaction(
    keys: readonly DedupKey[],
    body: BatchTransactionBody,
    topic: string,
  ): Promise<void> {
    return this.transactional.runBatch(keys, body, topic);
  }

  /** Counts a batch message processed (claimed in `claimBatch`), skipped or untracked. @internal */
  countBatch(topic: string, processed: number, deduplicated: number, inFlight = 0): void {
    this.batch.count(topic, processed, deduplicated, inFlight);
  }

  /** Counts a message without a usable id. @internal */
  missingKey(topic: string): void {
    this.counters.get(topic).missingKeys++;
  }

  /** One claim attempt, without waiting: claimed, duplicate or in-flight. */
  claim(key: DedupKey | string): Promise<ClaimResult> {
    return Promise.resolve(this.store.claim(toKey(key), this.options.leaseTtl));
  }

  /**
   * Claims `key`; when a copy is in flight, waits (bounded by `inFlightWait`) for its outcome:
   * skip if it succeeded, process if it failed. Past the wait, throws
   * {@link DedupInFlightTimeoutError} so Kafka redelivers the message later.
   */
  async acquire(keyOrId: DedupKey | string, context: AcquireContext = {}): Promise<DedupDecision> {
    const topic = context.topic ?? 'none';
    const counters = this.counters.get(topic);
    if (!this.enabled) return this.untracked(topic);
    const key = toKey(keyOrId);
    let result = await this.inFlight.claim(key, topic);
    if (result === null) return this.untracked(topic);
    if (result.status === 'in-flight') {
      counters.inFlightConflicts++;
      result = await this.inFlight.waitForOutcome(key, context);
      if (result === null) return this.untracked(topic);
    }
    if (result.status === 'duplicate') {
      counters.deduplicated++;
      return SKIP;
    }
    if (result.status !== 'claimed')
      throw new DedupInFlightTimeoutError(topic, this.options.inFlightWait);
    counters.processed++;
    this.leases.hold(key, result.token);
    return { action: 'process', key, token: result.token, topic };
  }

  /** Counts an event that reaches its handler without a claim (disabled, store down, no key). */
  untracked(topic: string): DedupDecision {
    this.counters.get(topic).processed++;
    return UNTRACKED;
  }

  /** Marks a processed event done for the TTL. Store failures are logged and counted, never thrown. */
  async commit(decision: DedupDecision): Promise<void> {
    if (decision.action !== 'process') return;
    this.leases.unhold(decision.token);
    try {
      await this.store.commit(decision.key, decision.token, this.options.ttl);
    } catch (error) {
      // The handler's side effects are done; throwing would only make Kafka redeliver it.
      this.failures.failed('commit', decision.topic, error, false);
    }
  }

  /** Gives up a claim after the handler failed, so the redelivery is processed. Never throws. */
  async release(decision: DedupDecision): Promise<void> {
    if (decision.action !== 'process') return;
    this.leases.unhold(decision.token);
    try {
      await this.store.release(decision.key, decision.token);
    } catch (error) {
      // The lease expires by itself; the redelivery then claims the event.
      this.failures.failed('release', decision.topic, error, false);
    }
  }

  /** Ids the store remembers. */
  async size(): Promise<number> {
    return this.store.size();
  }

  /** Sweeps expired ids (time-sliced); concurrent calls share one run. */
  cleanup(): Promise<CleanupResult> {
    this.cleanupRunning ??= (async () => {
      try {
        const result = await this.store.cleanup(this.options.cleanupSliceMs);
        this.metrics.cleanupDuration.observe({ store: this.store.name }, result.durationMs / 1000);
        return result;
      } finally {
        this.cleanupRunning = undefined;
      }
    })();
    return this.cleanupRunning;
  }

  async onApplicationShutdown(): Promise<void> {
    this.flush();
    beforeCollect.delete(this.flush);
    this.leases.stop();
    await this.store.close();
  }

  private afterClaim(
    key: DedupKey,
    result: ClaimResult,
    fn: () => unknown,
    topic: string,
    heartbeat: AcquireContext['heartbeat'],
    counters: TopicCounters,
  ): unknown {
    if (result.status === 'claimed') {
      counters.processed++;
      return this.settler.runClaimed(key, result.token, fn, topic);
    }
    if (result.status === 'duplicate') {
      counters.deduplicated++;
      return DUPLICATE;
    }
    counters.inFlightConflicts++;
    return this.inFlight.waitForOutcome(key, { topic, heartbeat }).then((outcome) => {
      if (outcome === null) {
        counters.processed++;
        return fn();
      }
      if (outcome.status === 'in-flight')
        throw new DedupInFlightTimeoutError(topic, this.options.inFlightWait);
      return this.afterClaim(key, outcome, fn, topic, heartbeat, counters);
    });
  }

  /**
   * Stores that answer {@link DedupStore.peek} (the memory store): a handler that returns
   * synchronously runs without a claim — nothing else can run between the peek and the commit —
   * and only a handler that goes asynchronous is claimed, before it yields, so a copy arriving
   * meanwhile waits for its outcome. Saves the in-flight bookkeeping of the common case.
   */
  private executePeeked(
    key: DedupKey,
    fn: () => unknown,
    topic: string,
    heartbeat: AcquireContext['heartbeat'],
    counters: TopicCounters,
  ): unknown {
    let status: ClaimResult['status'] | 'new';
    try {
      status = this.store.peek!(key);
    } catch (error) {
      this.failures.failed('claim', topic, error);
      counters.processed++;
      return fn();
    }
    if (status === 'duplicate') {
      counters.deduplicated++;
      return DUPLICATE;
    }
    if (status !== 'new') return this.afterClaim(key, IN_FLIGHT, fn, topic, heartbeat, counters);
    counters.processed++;
    // No claim yet: a synchronous throw leaves nothing to release.
    const result = fn();
    if (!(result instanceof Promise) && !isObservable(result))
      return this.settler.commitAndReturn(key, UNCLAIMED, topic, result);
    let claim: ClaimResult;
    try {
      claim = this.store.claim(key, this.options.leaseTtl) as ClaimResult;
    } catch (error) {
      this.failures.failed('claim', topic, error, false);
      return result;
    }
    // Claimed unless the handler's synchronous part deduplicated the same key itself.
    return claim.status === 'claimed'
      ? this.settler.settleResult(key, claim.token, topic, result)
      : result;
  }
}

const UNTRACKED: DedupDecision = { action: 'process-untracked' };
const IN_FLIGHT: ClaimResult = { status: 'in-flight' };
/** The token of a commit without a claim (a synchronous handler after `peek`): owns no claim. */
const UNCLAIMED = '';
const SKIP: DedupDecision = { action: 'skip' };

function toKey(key: DedupKey | string): DedupKey {
  return typeof key === 'string' ? { scope: DEFAULT_SCOPE, id: key } : key;
}
