import { status } from '@grpc/grpc-js';
import { GrpcPoolCallError, type GrpcPoolFailureReason } from '../errors/grpc-pool.errors';
import type { ResolvedGrpcPoolOptions } from '../options/grpc-pool.options';
import type { CallSettings } from './call-settings';
import type { Attempt } from './attempt';

/** The error of a call that found every connection's circuit open. @internal */
export function allDownError(
  pool: string,
  connections: number,
  ejectionMs: number,
  attempts: number,
): GrpcPoolCallError {
  return new GrpcPoolCallError(
    status.UNAVAILABLE,
    `grpc-pool "${pool}": all ${connections} connections are down (circuits open); failing fast, next probe within ${ejectionMs} ms`,
    attempts,
    { reason: 'all-down' },
  );
}

/** Slack for telling a client-side deadline from a server answer (timer granularity). @internal */
export const DEADLINE_SLACK_MS = 5;

/** What the final error of a call is built from. @internal */
export interface FailedCall {
  pool: string;
  options: ResolvedGrpcPoolOptions;
  settings: CallSettings;
  /** Deadline of the whole call (ms epoch). */
  deadline: number;
  attempts: number;
  connections: number;
  elapsedMs: number;
}

/**
 * The error a caller gets: the server's own error as is, or — whenever the pool decided the
 * outcome — a {@link GrpcPoolCallError} naming the pool, with the original error as `cause`.
 * @internal
 */
export function callError(
  reason: GrpcPoolFailureReason | undefined,
  error: unknown,
  last: Attempt | undefined,
  ctx: FailedCall,
): unknown {
  const { service, method } = ctx.settings;
  const pool = `grpc-pool "${ctx.pool}"`;
  const attempts = ctx.attempts;
  const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`;
  if (reason === 'all-down' || error === undefined) {
    return allDownError(ctx.pool, ctx.connections, ctx.options.breaker.ejectionMs, attempts);
  }
  if (error instanceof GrpcPoolCallError) return error;
  const code = codeOf(error);
  const details = detailsOf(error);
  const metadata = (error as { metadata?: GrpcPoolCallError['metadata'] }).metadata;
  if (reason === 'retry-budget') {
    const b = ctx.options.retry.budget;
    const budget = b
      ? `ratio ${b.ratio} of requests + ${b.minPerSecond}/s over ${b.windowMs} ms`
      : 'none';
    return new GrpcPoolCallError(
      code,
      `${pool}: retry budget exhausted (${budget}); ${service}.${method} gave up after ${tries}, last status ${code} ${status[code] ?? 'UNKNOWN'}: ${details}`,
      attempts,
      { cause: error, metadata, reason },
    );
  }

  if (code === status.DEADLINE_EXCEEDED && last?.timedOut) {
    const callLeft = ctx.deadline - last.deadline;
    if (callLeft > DEADLINE_SLACK_MS) {
      return new GrpcPoolCallError(
        code,
        `${pool}: ${service}.${method} attempt ${last.number} timed out after attemptTimeoutMs=${ctx.settings.attemptTimeoutMs} ms (per-attempt timeout; ${Math.round(callLeft)} ms of the call's deadline were left) after ${tries}`,
        attempts,
        { cause: error, metadata, reason: 'attempt-timeout' },
      );
    }
    return new GrpcPoolCallError(
      code,
      `${pool}: ${service}.${method} call deadline exceeded after ${Math.round(ctx.elapsedMs)} ms (${tries})`,
      attempts,
      { cause: error, metadata, reason: 'deadline' },
    );
  }
  if (code === status.UNAVAILABLE) {
    return new GrpcPoolCallError(
      code,
      `${pool}: ${service}.${method} failed after ${tries}: ${details}`,
      attempts,
      { cause: error, metadata, reason: 'unavailable' },
    );
  }
  return error;
}

/** The gRPC status code of an error (UNKNOWN when it has none). @internal */
export function codeOf(error: unknown): status {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : status.UNKNOWN;
}

function detailsOf(error: unknown): string {
  const e = error as { details?: unknown; message?: unknown } | undefined;
  return typeof e?.details === 'string' && e.details !== ''
    ? e.details
    : String(e?.message ?? error);
}
