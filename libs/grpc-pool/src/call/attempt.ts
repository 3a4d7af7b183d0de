import type { PoolConnection } from '../connection/pool-connection';
import type { PooledCallOptions } from '../options/grpc-pool-options.interface';

/**
 * The attempt types shared by the attempt loop (`pooled-call.ts`), the invokers that send an
 * attempt (`attempt-invokers.ts`) and the call's final error (`call-errors.ts`): they sit below
 * all three, so none of them imports another for a type.
 */

/** One attempt of a call on one connection. @internal */
export class Attempt {
  done = false;
  timedOut = false;
  /** Cancels the attempt (a hedge that lost). */
  handle?: { cancel(): void } = undefined;

  constructor(
    readonly connection: PoolConnection,
    readonly number: number,
    /** Deadline of this attempt (ms epoch). */
    readonly deadline: number,
    /** When it started (performance.now()). */
    readonly started: number,
  ) {}
}

/** What an invoker reads from the call it sends an attempt for, and reports the outcome to. @internal */
export interface AttemptCall {
  /** The request (unary) or the caller's function (callWithRetry). */
  readonly payload: unknown;
  readonly callOptions: PooledCallOptions | undefined;
  /** Outcome of one attempt: `error` null for an answer with `value`. */
  settle(attempt: Attempt, error: unknown, value?: unknown): void;
}

/** How one attempt is sent; reports its outcome with `call.settle(attempt, error, value)`. @internal */
export interface AttemptInvoker {
  start(call: AttemptCall, attempt: Attempt): void;
}
