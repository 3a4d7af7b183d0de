import { status } from '@grpc/grpc-js';
import type { ExponentialBackoff, IBackoff } from 'cockatiel';
import type { GrpcPoolFailureReason } from '../errors/grpc-pool.errors';
import { callError, codeOf, DEADLINE_SLACK_MS } from './call-errors';
import type { ResolvedGrpcPoolOptions, ResolvedHedging } from '../grpc-pool.options';
import type { PoolConnection } from './pool-connection';
import type { MethodMetrics, PoolMetrics } from './pool-metrics';
import type { Picker, TriedConnections } from './picker';
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

/** How one attempt is sent; reports its outcome with `call.settle(attempt, error, value)`. @internal */
export interface AttemptInvoker {
  start(call: PooledCall, attempt: Attempt): void;
}

/** One attempt of a call on one connection. @internal */
export class Attempt {
  done = false;
  timedOut = false;
  /** Cancels the attempt (a hedge that lost). */
  handle?: { cancel(): void };
  readonly started = performance.now();

  constructor(
    readonly connection: PoolConnection,
    readonly number: number,
    /** Deadline of this attempt (ms epoch). */
    readonly deadline: number,
  ) {}
}

/** Per-call settings, resolved from the pool options, the method policy and the call options. @internal */
export interface CallSettings {
  service: string;
  method: string;
  metrics: MethodMetrics;
  /** Deadline of the whole call (ms epoch). */
  deadline: number;
  maxAttempts: number;
  attemptTimeoutMs?: number;
  idempotent: boolean;
  hedging: ResolvedHedging | false;
}

/**
 * The attempt loop of one unary call: picks a connection per attempt, retries retryable failures on
 * other connections with jittered backoff inside the deadline and the retry budget, or — hedged —
 * sends further attempts on other connections after `hedgingDelayMs` and keeps the first answer.
 * Each outcome feeds the connection's breaker and latency estimate. Callback-driven: one object and
 * one Promise per call, no async frames. @internal
 */
export class PooledCall<T = unknown> implements TriedConnections {
  private resolve!: (value: unknown) => void;
  private reject!: (error: unknown) => void;
  private readonly started = performance.now();
  private attempts = 0;
  private inFlight = 0;
  private first?: Attempt;
  private others?: Attempt[];
  private lastError: unknown;
  private lastAttempt?: Attempt;
  private finished = false;
  private backoff?: IBackoff<unknown>;
  private hedgeTimer?: NodeJS.Timeout;
  private previous?: PoolConnection;

  constructor(
    private readonly core: PoolCore,
    private readonly invoker: AttemptInvoker,
    readonly settings: CallSettings,
    /** The request (unary) or the caller's function (callWithRetry); read by the invoker. */
    readonly payload: unknown,
    readonly callOptions: unknown,
  ) {}

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
        if (i > 0 && !this.acquireHedge()) break;
        if (!this.launch()) break;
      }
    } else {
      this.launch();
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
      if (!this.finished) this.succeed(value as T);
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
      c.latency.observe(latency);
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
      retry.retryOn.has(code) || (this.settings.idempotent && retry.idempotentRetryOn.has(code));
    if (!retryable || this.attempts >= this.settings.maxAttempts) return this.fail();
    this.backoff = this.backoff ? this.backoff.next(undefined) : this.core.backoff.next();
    const wait = this.backoff.duration;
    if (Date.now() + wait >= this.settings.deadline) return this.fail(); // no time left
    if (this.core.budget && !this.core.budget.tryAcquireRetry()) {
      this.core.metrics.budgetExhausted.inc();
      return this.fail('retry-budget');
    }
    this.settings.metrics.retries.inc();
    if (wait > 0) setTimeout(() => this.launch(), wait);
    else this.launch();
  }

  private afterHedgeFailure(code: status, hedging: ResolvedHedging): void {
    if (!hedging.nonFatalStatusCodes.has(code)) return this.fail();
    // A6: after a non-fatal failure the next hedge goes at once.
    if (this.attempts < hedging.maxAttempts) {
      if (!this.acquireHedge()) {
        if (this.inFlight === 0) this.fail('retry-budget');
        return;
      }
      this.clearHedgeTimer();
      if (this.launch()) return;
    }
    if (this.inFlight === 0) this.fail();
  }

  /** Starts an attempt on a picked connection; false when no connection fits. */
  private launch(): boolean {
    if (this.finished) return false;
    const hedging = this.settings.hedging;
    const connection = this.core.picker.pick(
      this.core.connections(),
      this.attempts === 0 ? undefined : this,
      !hedging, // a retry may reuse the lone healthy connection; a hedge never shares one
    );
    if (connection === undefined) {
      if (this.inFlight === 0) this.fail(this.lastError === undefined ? 'all-down' : undefined);
      return false;
    }
    if (this.previous !== undefined && connection !== this.previous)
      this.core.metrics.switched.inc();
    this.previous = connection;
    const { deadline, attemptTimeoutMs } = this.settings;
    const attempt = new Attempt(
      connection,
      ++this.attempts,
      attemptTimeoutMs ? Math.min(deadline, Date.now() + attemptTimeoutMs) : deadline,
    );
    if (this.first === undefined) this.first = attempt;
    else (this.others ??= []).push(attempt);
    connection.begin(attempt.started);
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
      if (this.finished || !this.settings.hedging) return;
      if (this.attempts >= this.settings.hedging.maxAttempts || !this.acquireHedge()) return;
      this.launch();
    }, delayMs);
  }

  /** A hedge draws from the retry budget and is counted. */
  private acquireHedge(): boolean {
    if (this.core.budget && !this.core.budget.tryAcquireRetry()) {
      this.core.metrics.budgetExhausted.inc();
      return false;
    }
    this.settings.metrics.hedges.inc();
    return true;
  }

  private siblingsAnswered(c: PoolConnection, since: number): boolean {
    const all = this.core.connections();
    for (let i = 0; i < all.length; i++) {
      const other = all[i];
      if (other !== c && other.lastAnswerAt >= since) return true;
    }
    return false;
  }

  private succeed(value: T): void {
    if (this.finished) return;
    this.finished = true;
    this.cancelOthers();
    this.settings.metrics.record(status.OK, (performance.now() - this.started) / 1000);
    this.resolve(value);
  }

  private fail(reason?: GrpcPoolFailureReason): void {
    if (this.finished) return; // settled already (a hedge that found no connection left)
    this.finished = true;
    this.cancelOthers();
    const error = callError(reason, this.lastError, this.lastAttempt, {
      pool: this.core.name,
      options: this.core.options,
      settings: this.settings,
      attempts: this.attempts,
      connections: this.core.connections().length,
      elapsedMs: performance.now() - this.started,
    });
    this.settings.metrics.record(codeOf(error), (performance.now() - this.started) / 1000);
    this.reject(error);
  }

  private cancelOthers(): void {
    this.clearHedgeTimer();
    if (this.inFlight === 0) return;
    const cancel = (a: Attempt | undefined): void => {
      if (a === undefined || a.done) return;
      a.done = true;
      a.connection.inFlight--;
      this.inFlight--;
      a.handle?.cancel();
    };
    cancel(this.first);
    this.others?.forEach(cancel);
  }

  private clearHedgeTimer(): void {
    if (this.hedgeTimer === undefined) return;
    clearTimeout(this.hedgeTimer);
    this.hedgeTimer = undefined;
  }
}
