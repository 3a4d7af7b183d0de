import { RpcException } from '@nestjs/microservices';

/**
 * Carries a failed event handler's error through Nest's exception layer to kafkajs unchanged:
 * an `RpcException` is not logged again by Nest, and `getError()` hands kafkajs the original
 * error, which it logs once with topic, partition, offset and stack, then redelivers the message.
 * Exception filters see this class; the original is `cause` (and `getError()`).
 */
export class DedupHandlerError extends RpcException {
  constructor(override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'DedupHandlerError';
  }

  override getError(): string | object {
    return typeof this.cause === 'object' && this.cause !== null ? this.cause : String(this.cause);
  }
}

/** Wraps a non-RPC error of an event handler; RPC exceptions already take Nest's quiet path. */
export function quietEventError(error: unknown): unknown {
  return error instanceof RpcException ? error : new DedupHandlerError(error);
}
