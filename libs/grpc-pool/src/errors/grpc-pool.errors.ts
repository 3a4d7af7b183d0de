import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { describeValue } from '@nest-resilience/common';

/** An option of `GrpcPoolModule.register()` is invalid; thrown at bootstrap. */
export class GrpcPoolOptionsError extends Error {
  constructor(
    readonly pool: string,
    readonly option: string,
    readonly value: unknown,
    expected: string,
  ) {
    super(`GrpcPool "${pool}": invalid option "${option}" = ${describeValue(value)}: ${expected}`);
    this.name = 'GrpcPoolOptionsError';
  }
}

/** `getService()` named a service the pool's proto package does not define. */
export class GrpcPoolServiceNotFoundError extends Error {
  constructor(
    readonly pool: string,
    readonly service: string,
    readonly available: string[],
  ) {
    super(
      `GrpcPool "${pool}": no service "${service}" (available: ${available.join(', ') || 'none'})`,
    );
    this.name = 'GrpcPoolServiceNotFoundError';
  }
}

/** A call to a method the service does not define. */
export class GrpcPoolMethodNotFoundError extends Error {
  constructor(
    readonly pool: string,
    readonly service: string,
    readonly method: string,
  ) {
    super(`GrpcPool "${pool}": service "${service}" has no method "${method}"`);
    this.name = 'GrpcPoolMethodNotFoundError';
  }
}

/**
 * Why the pool gave up on a call:
 * - `all-down`: every connection was ejected (fail fast, no network attempt)
 * - `unavailable`: the attempts failed with UNAVAILABLE (connection refused or lost)
 * - `attempt-timeout`: the last attempt hit `attemptTimeoutMs` while the call's deadline was still ahead
 * - `deadline`: the call's own deadline passed
 * - `retry-budget`: a retry or hedge was refused by the retry budget
 */
export type GrpcPoolFailureReason =
  'all-down' | 'unavailable' | 'attempt-timeout' | 'deadline' | 'retry-budget';

/**
 * A call the pool gave up on: a gRPC `ServiceError` (`code`, `details`, `metadata`) with the number of
 * attempts and the {@link GrpcPoolFailureReason}, whose message names the pool, so callers handle it
 * like any grpc-js error. The original error, if any, is the `cause`.
 */
export class GrpcPoolCallError extends Error implements ServiceError {
  readonly details: string;
  readonly metadata: Metadata;
  readonly reason?: GrpcPoolFailureReason;

  constructor(
    readonly code: status,
    message: string,
    readonly attempts: number,
    options?: { cause?: unknown; metadata?: Metadata; reason?: GrpcPoolFailureReason },
  ) {
    super(`${code} ${status[code]}: ${message}`, options);
    this.name = 'GrpcPoolCallError';
    this.details = message;
    this.metadata = options?.metadata ?? new Metadata();
    this.reason = options?.reason;
  }
}
