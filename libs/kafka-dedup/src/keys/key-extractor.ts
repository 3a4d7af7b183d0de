import type { KafkaContext } from '@nestjs/microservices';
import type { DedupKafkaMessage, DedupKeySource } from '../interfaces/dedup-options.interface';

/** Why a message has no usable event id. */
export interface MissingKey {
  readonly missing: string;
  /**
   * A bounded reason, for rate-limited logging: `absent`, `empty`, `lossy` (a non-UTF-8 id that
   * Nest's parser decoded with replacement characters), `value` (no such JSON path) or `function`.
   */
  readonly kind?: MissingKeyKind;
}

/** See {@link MissingKey.kind}. */
export type MissingKeyKind = 'absent' | 'empty' | 'lossy' | 'value' | 'function';

/** U+FFFD, what `Buffer.toString()` puts in place of bytes that are not valid UTF-8. */
const REPLACEMENT = '\uFFFD';

/** Reads the event id of a message: the id, or why there is none. Never throws. @internal */
export type KeyExtractor = (
  message: DedupKafkaMessage,
  context: KafkaContext,
) => string | Buffer | MissingKey;

/** Builds the extractor of a validated key source once, at bootstrap. @internal */
export function createKeyExtractor(source: DedupKeySource): KeyExtractor {
  switch (source.from) {
    case 'header': {
      const name = source.name ?? 'x-event-id';
      const absent: MissingKey = { missing: `no "${name}" header`, kind: 'absent' };
      const empty: MissingKey = { missing: `empty "${name}" header`, kind: 'empty' };
      const lossy: MissingKey = { missing: lossyText(`"${name}" header`), kind: 'lossy' };
      return (message) => checked(message.headers?.[name], absent, empty, lossy);
    }
    case 'key': {
      const absent: MissingKey = { missing: 'no message key', kind: 'absent' };
      const empty: MissingKey = { missing: 'empty message key', kind: 'empty' };
      const lossy: MissingKey = { missing: lossyText('message key'), kind: 'lossy' };
      return (message) => checked(message.key, absent, empty, lossy);
    }
    case 'value': {
      const paths = (Array.isArray(source.path) ? source.path : [source.path]).map((p) =>
        p.split('.'),
      );
      return (message) => fromValue(message.value, paths);
    }
    case 'function':
      return (message, context) => {
        try {
          return (
            normalize(source.extract(message, context)) ?? {
              missing: 'key function returned no id',
              kind: 'function',
            }
          );
        } catch (error) {
          return { missing: `key function threw: ${(error as Error).message}`, kind: 'function' };
        }
      };
  }
}

/** Whether an extractor result is a missing key. @internal */
export function isMissing(result: string | Buffer | MissingKey): result is MissingKey {
  return typeof result === 'object' && !Buffer.isBuffer(result);
}

/**
 * The id of a header or key value, or why there is none. An id Nest's parser decoded lossily (its
 * bytes were not UTF-8, so they became U+FFFD) is refused: `ff 01` and `fe 01` both arrive as
 * "\uFFFD\u0001", and deduplicating on that text would drop a different event. Raw bytes (a
 * Buffer, e.g. through {@link BinarySafeKafkaParser}) are used as they are.
 */
function checked(
  value: unknown,
  absent: MissingKey,
  empty: MissingKey,
  lossy: MissingKey,
): string | Buffer | MissingKey {
  if (value === undefined || value === null) return absent;
  if (value === '' || (Buffer.isBuffer(value) && value.length === 0)) return empty;
  const id = normalize(value);
  if (id === undefined) return absent;
  if (typeof id === 'string' && id.includes(REPLACEMENT)) return lossy;
  return id;
}

function lossyText(what: string): string {
  return `${what} is not valid UTF-8 (decoded with replacement characters, so two different ids could look alike); use BinarySafeServerKafka to receive the raw bytes`;
}

/**
 * Nest's Kafka parser hands header and key values over as strings, as Buffers (first byte 0), or
 * JSON-parsed (values starting with `{` or `[`); kafkajs may give arrays for repeated headers.
 */
function normalize(value: unknown): string | Buffer | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (Buffer.isBuffer(value)) return value.length === 0 ? undefined : value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  if (Array.isArray(value)) return normalize(value[0]);
  if (typeof value === 'object') return JSON.stringify(value);
  return undefined;
}

const NOT_JSON: MissingKey = { missing: 'value is not a JSON object', kind: 'value' };

function fromValue(value: unknown, paths: string[][]): string | MissingKey {
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return NOT_JSON;
  let id = '';
  for (let p = 0; p < paths.length; p++) {
    let node: unknown = value;
    for (const segment of paths[p]) {
      if (typeof node !== 'object' || node === null)
        return { missing: `no "${paths[p].join('.')}" in value`, kind: 'value' };
      node = (node as Record<string, unknown>)[segment];
    }
    const part = typeof node === 'object' && node !== null ? JSON.stringify(node) : node;
    if (part === undefined || part === null || part === '')
      return { missing: `no "${paths[p].join('.')}" in value`, kind: 'value' };
    id = p === 0 ? String(part) : `${id}:${String(part)}`;
  }
  return id;
}
