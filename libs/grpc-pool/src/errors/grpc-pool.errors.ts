import { Metadata, status, type ServiceError } from '@grpc/grpc-js';

/** An option of `GrpcPoolModule.register()` is invalid; thrown at bootstrap. */
export class GrpcPoolOptionsError extends Error {
  constructor(
    readonly pool: string,
    readonly option: string,
    readonly value: unknown,
    expected: string,
  ) {
    super(`GrpcPool "${pool}": invalid option "${option}" = ${describe(value)}: ${expected}`);
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
 * A call the pool gave up on: a gRPC `ServiceError` (`code`, `details`, `metadata`) with the number of
 * attempts, so callers handle it like any grpc-js error.
 */
export class GrpcPoolCallError extends Error implements ServiceError {
  readonly details: string;
  readonly metadata: Metadata;

  constructor(
    readonly code: status,
    message: string,
    readonly attempts: number,
    options?: { cause?: unknown; metadata?: Metadata },
  ) {
    super(`${code} ${status[code]}: ${message}`, options);
    this.name = 'GrpcPoolCallError';
    this.details = message;
    this.metadata = options?.metadata ?? new Metadata();
  }
}

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
