import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { isObservable, Observable } from 'rxjs';
import { DEDUP_RESOLVED_OPTIONS } from './dedup.constants';
import { TopicCounters } from './dedup.counters';
import { beforeCollect, DedupMetrics } from './dedup.metrics';
import type { ResolvedDedupOptions } from './dedup.options';
import { DedupInFlightTimeoutError, DedupStoreError } from './errors/dedup.errors';
import { RateLimitedLogger } from './logging/rate-limited-logger';
import type {
  ClaimResult,
  DedupKey,
  DedupTokenedKey,
  MaybePromise,
  TransactionOutcome,
} from './interfaces/dedup-key.interface';
import { CleanupResult, DedupStore } from './stores/dedup.store';

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

const DEFAULT_SCOPE = 'default';
const HEARTBEAT_EVERY_MS = 3_000;

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
  private readonly logger = new Logger('KafkaDedup');
  private readonly warnings = new RateLimitedLogger(this.logger);
  /** Claims held by this process, renewed every leaseTtl/3 so a slow handler keeps its lease. */
  private readonly held = new Map<string, { key: DedupKey; token: string }>();
  private renewTimer?: NodeJS.Timeout;
  private cleanupRunning?: Promise<CleanupResult>;
  private readonly counters = new Map<string, TopicCounters>();
  private lastTopic?: string;
  private lastCounters?: TopicCounters;
  private readonly flush = (): void => this.flushCounts();

  constructor(
    @Inject(DEDUP_RESOLVED_OPTIONS) private readonly options: ResolvedDedupOptions,
    readonly store: DedupStore,
    private readonly metrics: DedupMetrics,
  ) {
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
      this.storeFailed('markIfAbsent', 'none', error);
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
    const counters = this.countersFor(topic);
    if (!this.options.enabled) {
      counters.processed++;
      return fn();
    }
    // Transactional stores (a database inbox): claim + handler + commit run in ONE transaction
    // of the store, so the handler's writes and the done record commit or roll back together.
    // Every deduplicated call passes here, so this branch covers them all.
    if (this.store.runInTransaction !== undefined)
      return this.executeInTransaction(key, fn, topic, counters);
    if (this.store.peek !== undefined)
      return this.executePeeked(key, fn, topic, heartbeat, counters);
    let claim: MaybePromise<ClaimResult>;
    try {
      claim = this.store.claim(key, this.options.leaseTtl);
    } catch (error) {
      this.storeFailed('claim', topic, error);
      counters.processed++;
      return fn();
    }
    if (claim instanceof Promise) {
      return claim.then(
        (result) => this.afterClaim(key, result, fn, topic, heartbeat, counters),
        (error: unknown) => {
          this.storeFailed('claim', topic, error);
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
  async claimBatch(keys: readonly DedupKey[], topic: string): Promise<ClaimResult[] | null> {
    let results: ClaimResult[];
    try {
      results = await this.store.claimMany(keys, this.options.leaseTtl);
    } catch (error) {
      return this.storeFailed('claimMany', topic, error);
    }
    for (let i = 0; i < results.length; i++) {
      const result = results[i];
      if (result.status === 'claimed') this.hold(keys[i], result.token);
    }
    return results;
  }

  /** Commits processed claims of a batch in one store call; failures are logged, never thrown. @internal */
  async commitBatch(items: readonly DedupTokenedKey[], topic: string): Promise<void> {
    if (items.length === 0) return;
    for (const item of items) this.unhold(item.token);
    try {
      await this.store.commitMany(items, this.options.ttl);
    } catch (error) {
      this.storeFailed('commitMany', topic, error, false);
    }
  }

  /** Releases claims of a batch (failed or never reached); failures are logged, never thrown. @internal */
  async releaseBatch(items: readonly DedupTokenedKey[], topic: string): Promise<void> {
    if (items.length === 0) return;
    for (const item of items) this.unhold(item.token);
    try {
      await this.store.releaseMany(items);
    } catch (error) {
      this.storeFailed('releaseMany', topic, error, false);
    }
  }

  /** Counts a batch message processed (claimed in `claimBatch`), skipped or untracked. @internal */
  countBatch(topic: string, processed: number, deduplicated: number, inFlight = 0): void {
    const counters = this.countersFor(topic);
    counters.processed += processed;
    counters.deduplicated += deduplicated;
    counters.inFlightConflicts += inFlight;
  }

  /** Counts a message without a usable id. @internal */
  missingKey(topic: string): void {
    this.countersFor(topic).missingKeys++;
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
    const counters = this.countersFor(topic);
    if (!this.enabled) return this.untracked(topic);
    const key = toKey(keyOrId);
    let result = await this.tryClaim(key, topic);
    if (result === null) return this.untracked(topic);
    if (result.status === 'in-flight') {
      counters.inFlightConflicts++;
      result = await this.waitForOutcome(key, context);
      if (result === null) return this.untracked(topic);
    }
    if (result.status === 'duplicate') {
      counters.deduplicated++;
      return SKIP;
    }
    if (result.status !== 'claimed')
      throw new DedupInFlightTimeoutError(topic, this.options.inFlightWait);
    counters.processed++;
    this.hold(key, result.token);
    return { action: 'process', key, token: result.token, topic };
  }

  /** Counts an event that reaches its handler without a claim (disabled, store down, no key). */
  untracked(topic: string): DedupDecision {
    this.countersFor(topic).processed++;
    return UNTRACKED;
  }

  /** Marks a processed event done for the TTL. Store failures are logged and counted, never thrown. */
  async commit(decision: DedupDecision): Promise<void> {
    if (decision.action !== 'process') return;
    this.unhold(decision.token);
    try {
      await this.store.commit(decision.key, decision.token, this.options.ttl);
    } catch (error) {
      // The handler's side effects are done; throwing would only make Kafka redeliver it.
      this.storeFailed('commit', decision.topic, error, false);
    }
  }

  /** Gives up a claim after the handler failed, so the redelivery is processed. Never throws. */
  async release(decision: DedupDecision): Promise<void> {
    if (decision.action !== 'process') return;
    this.unhold(decision.token);
    try {
      await this.store.release(decision.key, decision.token);
    } catch (error) {
      // The lease expires by itself; the redelivery then claims the event.
      this.storeFailed('release', decision.topic, error, false);
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
    this.flushCounts();
    beforeCollect.delete(this.flush);
    clearInterval(this.renewTimer);
    this.renewTimer = undefined;
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
      return this.runClaimed(key, result.token, fn, topic);
    }
    if (result.status === 'duplicate') {
      counters.deduplicated++;
      return DUPLICATE;
    }
    counters.inFlightConflicts++;
    return this.waitForOutcome(key, { topic, heartbeat }).then((outcome) => {
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
      this.storeFailed('claim', topic, error);
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
      return this.commitAndReturn(key, UNCLAIMED, topic, result);
    let claim: ClaimResult;
    try {
      claim = this.store.claim(key, this.options.leaseTtl) as ClaimResult;
    } catch (error) {
      this.storeFailed('claim', topic, error, false);
      return result;
    }
    // Claimed unless the handler's synchronous part deduplicated the same key itself.
    return claim.status === 'claimed' ? this.settleResult(key, claim.token, topic, result) : result;
  }

  /** Runs the handler of a claimed event; commits or releases by its outcome. */
  private runClaimed(key: DedupKey, token: string, fn: () => unknown, topic: string): unknown {
    let result: unknown;
    try {
      result = fn();
    } catch (error) {
      return this.releaseAndThrow(key, token, topic, error);
    }
    return this.settleResult(key, token, topic, result);
  }

  /** Commits or releases a claimed event by what its handler returned (a value, Promise or Observable). */
  private settleResult(key: DedupKey, token: string, topic: string, result: unknown): unknown {
    if (result instanceof Promise) {
      this.hold(key, token);
      return result.then(
        (value: unknown) => {
          this.unhold(token);
          return this.commitAndReturn(key, token, topic, value);
        },
        (error: unknown) => {
          this.unhold(token);
          return this.releaseAndThrow(key, token, topic, error);
        },
      );
    }
    if (isObservable(result)) return this.settleWith(key, token, topic, result);
    return this.commitAndReturn(key, token, topic, result);
  }

  /** Commits when the handler's stream completes, releases when it errors or is torn down early. */
  private settleWith(
    key: DedupKey,
    token: string,
    topic: string,
    source: Observable<unknown>,
  ): Observable<unknown> {
    return new Observable((subscriber) => {
      let settled = false;
      this.hold(key, token);
      const inner = source.subscribe({
        next: (value) => subscriber.next(value),
        error: (error: unknown) => {
          settled = true;
          this.unhold(token);
          settle(
            () => this.releaseAndThrow(key, token, topic, error),
            () => undefined,
            (e) => subscriber.error(e),
          );
        },
        complete: () => {
          settled = true;
          this.unhold(token);
          settle(
            () => this.commitAndReturn(key, token, topic, undefined),
            () => subscriber.complete(),
            (e) => subscriber.error(e),
          );
        },
      });
      return () => {
        inner.unsubscribe();
        if (settled) return;
        // Torn down before the handler finished (e.g. a timeout): give the event back.
        this.unhold(token);
        settle(
          () => this.releaseAndThrow(key, token, topic, undefined),
          () => undefined,
          () => undefined,
        );
      };
    });
  }

  /** Commits, then answers `value` (synchronously when the store does). Never throws. */
  private commitAndReturn(key: DedupKey, token: string, topic: string, value: unknown): unknown {
    let done: MaybePromise<void>;
    try {
      done = this.store.commit(key, token, this.options.ttl);
    } catch (error) {
      // The handler's side effects are done; throwing would only make Kafka redeliver it.
      this.storeFailed('commit', topic, error, false);
      return value;
    }
    if (done instanceof Promise) {
      return done.then(
        () => value,
        (error: unknown) => {
          this.storeFailed('commit', topic, error, false);
          return value;
        },
      );
    }
    return value;
  }

  /**
   * Releases, then rethrows `error`: synchronously when the store answers synchronously, else
   * returns a Promise rejected with `error` once the release is done.
   */
  private releaseAndThrow(key: DedupKey, token: string, topic: string, error: unknown): unknown {
    let done: MaybePromise<void>;
    try {
      done = this.store.release(key, token);
    } catch (releaseError) {
      // The lease expires by itself; the redelivery then claims the event.
      this.storeFailed('release', topic, releaseError, false);
      throw error;
    }
    if (done instanceof Promise) {
      return done.then(
        () => Promise.reject(error),
        (releaseError: unknown) => {
          this.storeFailed('release', topic, releaseError, false);
          return Promise.reject(error);
        },
      );
    }
    throw error;
  }

  private async executeInTransaction(
    key: DedupKey,
    fn: () => unknown,
    topic: string,
    counters: TopicCounters,
  ): Promise<unknown> {
    let outcome: TransactionOutcome<unknown>;
    try {
      outcome = await this.store.runInTransaction!(key, this.options.ttl, () => promiseOf(fn));
    } catch (error) {
      // The store's own failures (unreachable, aborted transaction, failed commit) are counted and
      // always thrown whatever onStoreError says: the handler's writes live in that database, so
      // the only safe outcome is a redelivery. A handler's error passes through as it is.
      if (error instanceof DedupStoreError) {
        this.metrics.storeErrors.inc({ topic, store: this.store.name });
        this.warnings.warn(error.operation, `${error.message} — the message will be redelivered`);
      }
      throw error;
    }
    if (outcome.duplicate) {
      counters.deduplicated++;
      return DUPLICATE;
    }
    counters.processed++;
    return outcome.result;
  }

  private countersFor(topic: string): TopicCounters {
    // Consecutive messages mostly share a topic: skip the Map lookup when it repeats.
    if (topic === this.lastTopic) return this.lastCounters!;
    let counters = this.counters.get(topic);
    if (counters === undefined) {
      counters = new TopicCounters({ topic, store: this.store.name });
      this.counters.set(topic, counters);
    }
    this.lastTopic = topic;
    this.lastCounters = counters;
    return counters;
  }

  /** Adds the counts since the last scrape to the Prometheus counters. */
  private flushCounts(): void {
    for (const counters of this.counters.values()) counters.flushTo(this.metrics);
  }

  /** @returns the claim result, or null when the store failed and the policy says process. */
  private async tryClaim(key: DedupKey, topic: string): Promise<ClaimResult | null> {
    try {
      return await this.store.claim(key, this.options.leaseTtl);
    } catch (error) {
      return this.storeFailed('claim', topic, error);
    }
  }

  private async waitForOutcome(
    key: DedupKey,
    context: AcquireContext,
  ): Promise<ClaimResult | null> {
    const started = Date.now();
    let lastBeat = started;
    let delay = 5;
    for (;;) {
      await sleep(delay);
      delay = Math.min(delay * 2, 100);
      const now = Date.now();
      if (context.heartbeat && now - lastBeat >= HEARTBEAT_EVERY_MS) {
        lastBeat = now;
        await context.heartbeat();
      }
      const result = await this.tryClaim(key, context.topic ?? 'none');
      if (result === null || result.status !== 'in-flight') return result;
      if (now - started >= this.options.inFlightWait) return result;
    }
  }

  /** Applies `onStoreError`: returns null (process untracked) or throws {@link DedupStoreError}. */
  private storeFailed(operation: string, topic: string, error: unknown, mayThrow = true): null {
    this.metrics.storeErrors.inc({ topic, store: this.store.name });
    const storeError = new DedupStoreError(operation, this.store.name, { cause: error });
    if (mayThrow && this.options.onStoreError === 'throw') throw storeError;
    // One line, then a summary per interval: an outage must not write a line per message.
    this.warnings.warn(
      operation,
      `${storeError.message}${mayThrow ? ' — processing without deduplication (onStoreError: process)' : ''}`,
    );
    return null;
  }

  private hold(key: DedupKey, token: string): void {
    this.held.set(token, { key, token });
    if (this.renewTimer === undefined) {
      this.renewTimer = setInterval(
        () => void this.renewHeld(),
        Math.max(1, Math.floor(this.options.leaseTtl / 3)),
      );
      this.renewTimer.unref();
    }
  }

  private unhold(token: string): void {
    this.held.delete(token);
  }

  private async renewHeld(): Promise<void> {
    if (this.held.size === 0) return;
    try {
      await this.store.renew([...this.held.values()], this.options.leaseTtl);
    } catch (error) {
      this.storeFailed('renew', 'none', error, false);
    }
  }
}

const UNTRACKED: DedupDecision = { action: 'process-untracked' };
const IN_FLIGHT: ClaimResult = { status: 'in-flight' };
/** The token of a commit without a claim (a synchronous handler after `peek`): owns no claim. */
const UNCLAIMED = '';
const SKIP: DedupDecision = { action: 'skip' };

/** Runs `step` (a value, a throw or a Promise) and routes its outcome to `ok` / `fail`. */
function settle(
  step: () => unknown,
  ok: (value: unknown) => void,
  fail: (error: unknown) => void,
): void {
  let value: unknown;
  try {
    value = step();
  } catch (error) {
    fail(error);
    return;
  }
  if (value instanceof Promise) value.then(ok, fail);
  else ok(value);
}

/**
 * What `fn` settles with, as a Promise: the handler's own Promise as it is (no extra async frame
 * and promise hop per message), an Observable's last value, a value or a synchronous throw wrapped.
 */
function promiseOf(fn: () => unknown): Promise<unknown> {
  let result: unknown;
  try {
    result = fn();
  } catch (error) {
    return Promise.reject(error);
  }
  if (result instanceof Promise) return result;
  return isObservable(result) ? lastValue(result) : Promise.resolve(result);
}

function lastValue(source: Observable<unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let last: unknown;
    source.subscribe({ next: (v) => (last = v), error: reject, complete: () => resolve(last) });
  });
}

function toKey(key: DedupKey | string): DedupKey {
  return typeof key === 'string' ? { scope: DEFAULT_SCOPE, id: key } : key;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
