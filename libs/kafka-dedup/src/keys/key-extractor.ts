import type { KafkaContext } from '@nestjs/microservices';
import type { DedupKafkaMessage, DedupKeySource } from '../interfaces/dedup-options.interface';

/** Why a message has no usable event id. */
export interface MissingKey {
  readonly missing: string;
}

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
      const absent: MissingKey = { missing: `no "${name}" header` };
      return (message) => normalize(message.headers?.[name]) ?? absent;
    }
    case 'key': {
      const absent: MissingKey = { missing: 'no message key' };
      return (message) => normalize(message.key) ?? absent;
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
            }
          );
        } catch (error) {
          return { missing: `key function threw: ${(error as Error).message}` };
        }
      };
  }
}

/** Whether an extractor result is a missing key. @internal */
export function isMissing(result: string | Buffer | MissingKey): result is MissingKey {
  return typeof result === 'object' && !Buffer.isBuffer(result);
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

const NOT_JSON: MissingKey = { missing: 'value is not a JSON object' };

function fromValue(value: unknown, paths: string[][]): string | MissingKey {
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return NOT_JSON;
  let id = '';
  for (let p = 0; p < paths.length; p++) {
    let node: unknown = value;
    for (const segment of paths[p]) {
      if (typeof node !== 'object' || node === null)
        return { missing: `no "${paths[p].join('.')}" in value` };
      node = (node as Record<string, unknown>)[segment];
    }
    const part = typeof node === 'object' && node !== null ? JSON.stringify(node) : node;
    if (part === undefined || part === null || part === '')
      return { missing: `no "${paths[p].join('.')}" in value` };
    id = p === 0 ? String(part) : `${id}:${String(part)}`;
  }
  return id;
}
