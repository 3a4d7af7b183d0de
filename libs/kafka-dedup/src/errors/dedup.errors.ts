import { RpcException } from '@nestjs/microservices';

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

/** The store failed and `onStoreError` is `'throw'`: the message is redelivered by Kafka. */
export class DedupStoreError extends Error {
  constructor(
    readonly operation: string,
    readonly store: string,
    options?: { cause?: unknown },
  ) {
    super(
      `KafkaDedup: ${store} store failed during ${operation}: ${causeText(options?.cause)}`,
      options,
    );
    this.name = 'DedupStoreError';
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
 * back to Kafka so it is redelivered later (never dropped, never processed twice at once).
 */
export class DedupInFlightTimeoutError extends Error {
  constructor(
    readonly topic: string,
    readonly waitedMs: number,
  ) {
    super(`KafkaDedup: a copy of this event on ${topic} was still in flight after ${waitedMs} ms`);
    this.name = 'DedupInFlightTimeoutError';
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

function causeText(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
