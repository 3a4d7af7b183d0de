import { KafkaRetriableException, RpcException } from '@nestjs/microservices';
import { describeValue as describe } from '@nest-resilience/common';

/** A module option is invalid; thrown at bootstrap, naming the option and the value. */
export class DedupOptionsError extends Error {
  constructor(
    readonly option: string,
    readonly value: unknown,
    expected: string,
  ) {
    super(`KafkaDedup: invalid option "${option}" = ${describe(value)}: ${expected}`);
    this.name = 'DedupOptionsError';
  }
}

/**
 * The store failed and `onStoreError` is `'throw'`: the message is redelivered by Kafka. A
 * `KafkaRetriableException`, so a `@MessagePattern` handler's message is redelivered too instead
 * of answered with an error. `lastConnectionError` carries the reason the store could not connect
 * (e.g. `WRONGPASS …`, an untrusted certificate) when the failure itself does not say it.
 */
export class DedupStoreError extends KafkaRetriableException {
  /** The last error the store's connection reported, when it is not connected. */
  readonly lastConnectionError?: Error;

  constructor(
    readonly operation: string,
    readonly store: string,
    options?: { cause?: unknown; lastConnectionError?: Error },
  ) {
    const lastConnectionError = options?.lastConnectionError ?? connectionErrorOf(options?.cause);
    super(
      `KafkaDedup: ${store} store failed during ${operation}: ${causeText(options?.cause)}${
        lastConnectionError && !causeText(options?.cause).includes(lastConnectionError.message)
          ? ` (last connection error: ${lastConnectionError.message})`
          : ''
      }`,
    );
    this.name = 'DedupStoreError';
    if (options && 'cause' in options) {
      Object.defineProperty(this, 'cause', { value: options.cause, configurable: true });
    }
    this.lastConnectionError = lastConnectionError;
  }
}

/**
 * A message had no event id and `onMissingKey` is `'error'`. An `RpcException`, so a
 * `@MessagePattern` caller receives `{ status: 'error', message }` rather than "Internal server error".
 */
export class DedupMissingKeyError extends RpcException {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: string | undefined,
    readonly reason: string,
  ) {
    super(`KafkaDedup: no event id in ${topic}[${partition}]@${offset ?? '?'}: ${reason}`);
    this.name = 'DedupMissingKeyError';
  }
}

/**
 * A copy of the event was still in flight elsewhere after `inFlightWait`: the message is thrown
 * back to Kafka so it is redelivered later (never dropped, never processed twice at once). A
 * `KafkaRetriableException`, so this holds for `@MessagePattern` handlers too.
 */
export class DedupInFlightTimeoutError extends KafkaRetriableException {
  constructor(
    readonly topic: string,
    readonly waitedMs: number,
  ) {
    super(`KafkaDedup: a copy of this event on ${topic} was still in flight after ${waitedMs} ms`);
    this.name = 'DedupInFlightTimeoutError';
  }
}

function causeText(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/** The `lastConnectionError` a store attached to the error it threw (see the Redis store). */
function connectionErrorOf(cause: unknown): Error | undefined {
  const value = (cause as { lastConnectionError?: unknown } | null | undefined)
    ?.lastConnectionError;
  return value instanceof Error ? value : undefined;
}
