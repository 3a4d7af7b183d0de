import type { KafkaContext } from '@nestjs/microservices';

/** A Kafka message as Nest's Kafka parser hands it over (headers and key already decoded). */
export interface DedupKafkaMessage {
  key?: unknown;
  value?: unknown;
  headers?: Record<string, unknown>;
  offset?: string;
}

/** Returns the event id of a message, or `undefined` when it has none. */
export type DedupKeyFunction = (
  message: DedupKafkaMessage,
  context: KafkaContext,
) => string | Buffer | undefined | null;

/** Where the event id comes from. */
export type DedupKeySource =
  /** A header (default `x-event-id`); string or Buffer values. */
  | { from: 'header'; name?: string }
  /** The Kafka message key. */
  | { from: 'key' }
  /**
   * One or more dot paths into the JSON value, joined with `:`, e.g. a Debezium envelope's
   * `['source.lsn', 'source.txId']`. A non-JSON value follows `onMissingKey`.
   */
  | { from: 'value'; path: string | string[] }
  /** Any function of the message. */
  | { from: 'function'; extract: DedupKeyFunction };

/** What to do with a message that has no key (or a malformed value when the key is a JSON path). */
export type MissingKeyPolicy = 'process' | 'skip' | 'error';
/** What to do when the store fails: process anyway (at-least-once) or throw so Kafka redelivers. */
export type StoreErrorPolicy = 'process' | 'throw';

/** Options of `@Deduplicate()`: per-handler overrides. */
export interface DeduplicateOptions {
  key?: DedupKeySource | DedupKeyFunction;
  onMissingKey?: MissingKeyPolicy;
  /** Scope used instead of `<group>/<topic>` (e.g. to share ids between two topics). */
  scope?: string;
  /** Do not deduplicate this handler even when `applyToAllHandlers` is set. */
  skip?: boolean;
}
