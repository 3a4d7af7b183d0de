import { status } from '@grpc/grpc-js';
import type { ExponentialBackoff, IBackoff } from 'cockatiel';
import type { GrpcPoolFailureReason } from '../errors/grpc-pool.errors';
import type { ResolvedGrpcPoolOptions, ResolvedHedging } from '../options/grpc-pool.options';
import type { PooledCallOptions } from '../options/grpc-pool-options.interface';
import { Attempt, type AttemptCall, type AttemptInvoker } from './attempt';
import { callError, codeOf, DEADLINE_SLACK_MS } from './call-errors';
import { callDeadline, type CallSettings } from './call-settings';
import type { PoolConnection } from '../connection/pool-connection';
import type { PoolMetrics } from '../metrics/pool-metrics';
import type { Picker, TriedConnections } from '../balancing/picker';
import type { RetryBudget } from './retry-budget';

/** What a call needs from its pool. @internal */
export interface PoolCore {
  readonly name: string;
  readonly options: ResolvedGrpcPoolOptions;
  readonly picker: Picker;
  readonly budget?: RetryBudget;
  readonly backoff: ExponentialBackoff<unknown>;
  readonly metrics: PoolMetrics;
  connections(): readonly PoolConnection[];
}

/**
 * The attempt loop of one unary call: picks a connection per attempt, retries retryable failures on
 * other connections with jittered backoff inside the deadline and the retry budget, or — hedged —
 * sends further attempts on other connections after `hedgingDelayMs` and keeps the first answer.
 * Each outcome feeds the connection's breaker and latency estimate. Callback-driven: one object and
 * one Promise per call, no async frames. @internal
 */
export class PooledCall<T = unknown> implements TriedConnections, AttemptCall {
  /** Deadline of the whole call (ms epoch). */
  readonly deadline: number;
  /** Whether idempotent codes may be retried (the call's option, else the settings'). */
  readonly idempotent: boolean;
  private resolve!: (value: unknown) => void;
  private reject!: (error: unknown) => void;
  private readonly started = performance.now();
  private attempts = 0;
  private inFlight = 0;
  private first?: Attempt = undefined;
  private others?: Attempt[] = undefined;
  private lastError: unknown = undefined;
  private lastAttempt?: Attempt = undefined;
  private finished = false;
  private backoff?: IBackoff<unknown> = undefined;
  private hedgeTimer?: NodeJS.Timeout = undefined;
  private previous?: PoolConnection = undefined;

  constructor(
    private readonly core: PoolCore,
    private readonly invoker: AttemptInvoker,
    /** The method's settings (shared by its calls, never mutated). */
    readonly settings: CallSettings,
    /** The request (unary) or the caller's function (callWithRetry); read by the invoker. */
    readonly payload: unknown,
    readonly callOptions: PooledCallOptions | undefined,
  ) {
    this.deadline = callDeadline(callOptions, settings.timeoutMs);
    this.idempotent = callOptions?.idempotent ?? settings.idempotent;
  }

  run(): Promise<T> {
    const promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve as (value: unknown) => void;
      this.reject = reject;
    });
    this.core.budget?.recordRequest();
    const hedging = this.settings.hedging;
    if (hedging && hedging.hedgingDelayMs === 0) {
      // Every hedge at once, each on its own connection.
      for (let i = 0; i < hedging.maxAttempts && !this.finished; i++) {
        if (!this.launch(i > 0)) break;
      }
    } else {
      this.launch(false);
    }
    return promise;
  }

  /** Whether this call already tried `connection` (the picker prefers others). */
  has(connection: PoolConnection): boolean {
    if (this.first?.connection === connection) return true;
    const others = this.others;
    if (others === undefined) return false;
    for (let i = 0; i < others.length; i++) if (others[i].connection === connection) return true;
    return false;
  }

  /** Outcome of one attempt: `error` null for an answer with `value`. */
  settle(attempt: Attempt, error: unknown, value?: unknown): void {
    if (attempt.done) return;
    attempt.done = true;
    const c = attempt.connection;
    c.inFlight--;
    this.inFlight--;
    const now = performance.now();
    const latency = now - attempt.started;
    if (error === null || error === undefined) {
      c.answered(now, latency);
      if (!this.finished) this.succeed(value as T, now);
      return;
    }
    const code = codeOf(error);
    if (code === status.UNAVAILABLE) {
      c.breaker.unavailableFailure();
    } else if (
      code === status.DEADLINE_EXCEEDED &&
      Date.now() >= attempt.deadline - DEADLINE_SLACK_MS
    ) {
      // No answer before the deadline: never a success. A failure of this connection when its
      // siblings answered meanwhile (otherwise the server or the deadline is the problem).
      attempt.timedOut = true;
      c.latency.observe(latency, now);
      // "Meanwhile": during the attempt or as long before it (sequential callers).
      if (this.siblingsAnswered(c, attempt.started - latency)) c.breaker.timeoutFailure();
    } else {
      c.answered(now, latency); // the server answered with an error: the connection works
    }
    if (this.finished) return;
    this.lastError = error;
    this.lastAttempt = attempt;
    if (this.settings.hedging) this.afterHedgeFailure(code, this.settings.hedging);
    else this.afterFailure(code);
  }

  private afterFailure(code: status): void {
    const { retry } = this.core.options;
    const retryable =
      retry.retryOn.has(code) || (this.idempotent && retry.idempotentRetryOn.has(code));
    if (!retryable || this.attempts >= this.settings.maxAttempts) return this.fail();
    this.backoff = this.backoff ? this.backoff.next(undefined) : this.core.backoff.next();
    const wait = this.backoff.duration;
    if (Date.now() + wait >= this.deadline) return this.fail(); // no time left
    if (this.core.budget && !this.core.budget.tryAcquireRetry()) {
      this.core.metrics.budgetExhausted.inc();
      return this.fail('retry-budget');
    }
    this.settings.metrics.retries.inc();
    if (wait > 0) setTimeout(() => this.launch(false), wait);
    else this.launch(false);
  }

  private afterHedgeFailure(code: status, hedging: ResolvedHedging): void {
    if (!hedging.nonFatalStatusCodes.has(code)) return this.fail();
    // A6: after a non-fatal failure the next hedge goes at once.
    // launch() fails the call itself when it sends nothing and nothing is left in flight.
    if (this.attempts < hedging.maxAttempts) this.launch(true);
    else if (this.inFlight === 0) this.fail();
  }

  /**
   * Starts an attempt on a picked connection. A hedge is sent only when a connection fits and the
   * retry budget grants it; only then is it taken from the budget and counted. Without a
   * connection (or budget) and nothing left in flight, the call fails. Returns whether it sent one.
   */
  private launch(hedge: boolean): boolean {
    if (this.finished) return false;
    const hedging = this.settings.hedging;
    const now = this.attempts === 0 ? this.started : performance.now();
    const connection = this.core.picker.pick(
      this.core.connections(),
      this.attempts === 0 ? undefined : this,
      !hedging, // a retry may reuse the lone healthy connection; a hedge never shares one
      now,
    );
    if (connection === undefined) {
      this.clearHedgeTimer(); // no connection left for a hedge: none will be sent later either
      if (this.inFlight === 0) this.fail(this.lastError === undefined ? 'all-down' : undefined);
      return false;
    }
    if (hedge) {
      if (this.core.budget && !this.core.budget.tryAcquireRetry()) {
        this.core.metrics.budgetExhausted.inc();
        if (this.inFlight === 0) this.fail('retry-budget');
        return false;
      }
      this.clearHedgeTimer(); // the next hedge is timed from this one
      this.settings.metrics.hedges.inc();
    }
    if (this.previous !== undefined && connection !== this.previous)
      this.core.metrics.switched.inc();
    this.previous = connection;
    const deadline = this.deadline;
    const attemptTimeoutMs = this.settings.attemptTimeoutMs;
    const attempt = new Attempt(
      connection,
      ++this.attempts,
      attemptTimeoutMs ? Math.min(deadline, Date.now() + attemptTimeoutMs) : deadline,
      now,
    );
    if (this.first === undefined) this.first = attempt;
    else (this.others ??= []).push(attempt);
    connection.begin(now);
    this.inFlight++;
    try {
      this.invoker.start(this, attempt);
    } catch (error) {
      this.settle(attempt, error ?? new Error('attempt failed'));
    }
    if (hedging && hedging.hedgingDelayMs > 0 && this.attempts < hedging.maxAttempts)
      this.armHedge(hedging.hedgingDelayMs);
    return true;
  }

  private armHedge(delayMs: number): void {
    if (this.hedgeTimer !== undefined || this.finished) return;
    this.hedgeTimer = setTimeout(() => {
      this.hedgeTimer = undefined;
      const hedging = this.settings.hedging;
      if (this.finished || !hedging || this.attempts >= hedging.maxAttempts) return;
      this.launch(true);
    }, delayMs);
  }

  private siblingsAnswered(c: PoolConnection, since: number): boolean {
    const all = this.core.connections();
    for (let i = 0; i < all.length; i++) {
      const other = all[i];
      if (other !== c && other.lastAnswerAt >= since) return true;
    }
    return false;
  }

  private succeed(value: T, now: number): void {
    this.finished = true;
    this.cancelOthers();
    this.settings.metrics.record(status.OK, (now - this.started) / 1000);
    this.resolve(value);
  }

  private fail(reason?: GrpcPoolFailureReason): void {
    this.finished = true;
    this.cancelOthers();
    const elapsedMs = performance.now() - this.started;
    const error = callError(reason, this.lastError, this.lastAttempt, {
      pool: this.core.name,
      options: this.core.options,
      settings: this.settings,
      deadline: this.deadline,
      attempts: this.attempts,
      connections: this.core.connections().length,
      elapsedMs,
    });
    this.settings.metrics.record(codeOf(error), elapsedMs / 1000);
    this.reject(error);
  }

  /** Cancels the attempts still in flight (hedges that lost) and the next hedge. */
  private cancelOthers(): void {
    this.clearHedgeTimer();
    if (this.inFlight === 0) return;
    this.cancel(this.first);
    const others = this.others;
    if (others !== undefined) for (let i = 0; i < others.length; i++) this.cancel(others[i]);
  }

  private cancel(a: Attempt | undefined): void {
    if (a === undefined || a.done) return;
    a.done = true;
    a.connection.inFlight--;
    this.inFlight--;
    a.handle?.cancel();
  }

  private clearHedgeTimer(): void {
    if (this.hedgeTimer === undefined) return;
    clearTimeout(this.hedgeTimer);
    this.hedgeTimer = undefined;
  }
}
