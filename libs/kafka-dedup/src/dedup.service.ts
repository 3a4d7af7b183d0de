import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { DEDUP_RESOLVED_OPTIONS } from './dedup.constants';
import { DedupMetrics } from './dedup.metrics';
import type { ResolvedDedupOptions } from './dedup.options';
import { DedupInFlightTimeoutError, DedupStoreError } from './errors/dedup.errors';
import type { ClaimResult, DedupKey } from './interfaces/dedup-key.interface';
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
  /** Claims held by this process, renewed every leaseTtl/3 so a slow handler keeps its lease. */
  private readonly held = new Map<string, { key: DedupKey; token: string }>();
  private renewTimer?: NodeJS.Timeout;
  private cleanupRunning?: Promise<CleanupResult>;

  constructor(
    @Inject(DEDUP_RESOLVED_OPTIONS) private readonly options: ResolvedDedupOptions,
    readonly store: DedupStore,
    private readonly metrics: DedupMetrics,
  ) {}

  /** False when `enabled: false` or `ttl: 0`: every event is processed. */
  get enabled(): boolean {
    return this.options.enabled;
  }

  /**
   * The seed's `process_or_skip`: true the first time an id is seen within the TTL, false after.
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
    const decision = await this.acquire(key, context);
    if (decision.action === 'skip') return undefined;
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      await this.release(decision);
      throw error;
    }
    await this.commit(decision);
    return result;
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
    const labels = { topic, store: this.store.name };
    if (!this.enabled) return this.untracked(topic);
    const key = toKey(keyOrId);
    let result = await this.tryClaim(key, topic);
    if (result === null) return this.untracked(topic);
    if (result.status === 'in-flight') {
      this.metrics.inFlightConflicts.inc(labels);
      result = await this.waitForOutcome(key, context);
      if (result === null) return this.untracked(topic);
    }
    if (result.status === 'duplicate') {
      this.metrics.deduplicated.inc(labels);
      return SKIP;
    }
    if (result.status !== 'claimed')
      throw new DedupInFlightTimeoutError(topic, this.options.inFlightWait);
    this.metrics.processed.inc(labels);
    this.hold(key, result.token);
    return { action: 'process', key, token: result.token, topic };
  }

  /** Counts an event that reaches its handler without a claim (disabled, store down, no key). */
  untracked(topic: string): DedupDecision {
    this.metrics.processed.inc({ topic, store: this.store.name });
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
    clearInterval(this.renewTimer);
    this.renewTimer = undefined;
    await this.store.close();
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
    this.logger.warn(
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
const SKIP: DedupDecision = { action: 'skip' };

function toKey(key: DedupKey | string): DedupKey {
  return typeof key === 'string' ? { scope: DEFAULT_SCOPE, id: key } : key;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
