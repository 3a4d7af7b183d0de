import { DedupOptionsError } from '../../errors/dedup.errors';
import type { DedupRedisOptions } from '../../interfaces/dedup-options.interface';

const KNOWN = new Set([
  'client',
  'url',
  'cluster',
  'options',
  'keyPrefix',
  'ownerTtl',
  'startupTimeout',
  'allowDegradedStart',
  'allowEvictingPolicy',
]);

/**
 * Validates `redis: { … }` at module creation, naming the option and the value. Needs no ioredis:
 * a client is recognised by shape. @internal
 */
export function validateRedisOptions(redis: unknown): DedupRedisOptions {
  if (redis === undefined) return {};
  if (typeof redis !== 'object' || redis === null || Array.isArray(redis)) {
    throw new DedupOptionsError('redis', redis, 'expected an object');
  }
  const options = redis as Record<string, unknown>;
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name))
      throw new DedupOptionsError(`redis.${name}`, options[name], 'unknown option');
  }
  const sources = ['client', 'url', 'cluster'].filter((name) => options[name] !== undefined);
  if (sources.length > 1) {
    throw new DedupOptionsError(
      `redis.${sources[1]}`,
      '{…}',
      `give one of redis.client, redis.url, redis.cluster (also given: redis.${sources[0]})`,
    );
  }
  const client = options.client as { defineCommand?: unknown; status?: unknown } | undefined;
  if (
    client !== undefined &&
    (typeof client !== 'object' || typeof client.defineCommand !== 'function')
  ) {
    throw new DedupOptionsError(
      'redis.client',
      '{…}',
      'expected an ioredis Redis or Cluster instance',
    );
  }
  if (options.url !== undefined) {
    if (typeof options.url !== 'string' || !/^(rediss?:\/\/|\/)/.test(options.url)) {
      throw new DedupOptionsError(
        'redis.url',
        redact(options.url),
        'expected a redis:// or rediss:// URL (or a unix socket path)',
      );
    }
  }
  if (options.cluster !== undefined) validateCluster(options.cluster);
  if (
    options.keyPrefix !== undefined &&
    (typeof options.keyPrefix !== 'string' || options.keyPrefix === '')
  ) {
    throw new DedupOptionsError(
      'redis.keyPrefix',
      options.keyPrefix,
      'expected a non-empty string',
    );
  }
  for (const name of ['ownerTtl', 'startupTimeout']) {
    const value = options[name];
    if (
      value !== undefined &&
      (typeof value !== 'number' || !Number.isInteger(value) || value < 100)
    ) {
      throw new DedupOptionsError(
        `redis.${name}`,
        value,
        'expected an integer >= 100 (milliseconds)',
      );
    }
  }
  for (const name of ['allowDegradedStart', 'allowEvictingPolicy']) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') {
      throw new DedupOptionsError(`redis.${name}`, options[name], 'expected true or false');
    }
  }
  if (
    options.options !== undefined &&
    (typeof options.options !== 'object' || options.options === null)
  ) {
    throw new DedupOptionsError(
      'redis.options',
      options.options,
      'expected ioredis options (an object)',
    );
  }
  return options as DedupRedisOptions;
}

function validateCluster(cluster: unknown): void {
  const nodes = (cluster as { nodes?: unknown } | null)?.nodes;
  if (
    typeof cluster !== 'object' ||
    cluster === null ||
    !Array.isArray(nodes) ||
    nodes.length === 0
  ) {
    throw new DedupOptionsError(
      'redis.cluster.nodes',
      nodes,
      'expected a non-empty list of "host:port" or { host, port }',
    );
  }
  for (const node of nodes) {
    const ok =
      (typeof node === 'string' && /^[^:\s]+:\d+$/.test(node)) ||
      (typeof node === 'object' &&
        node !== null &&
        typeof (node as { host?: unknown }).host === 'string' &&
        Number.isInteger((node as { port?: unknown }).port));
    if (!ok) {
      throw new DedupOptionsError(
        'redis.cluster.nodes',
        node,
        'expected "host:port" or { host, port }',
      );
    }
  }
}

/** Never print a password given in a URL. */
function redact(url: unknown): unknown {
  return typeof url === 'string' ? url.replace(/\/\/([^@/]*)@/, '//***@') : url;
}
