import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { DedupOptionsError } from '../../errors/dedup.errors';

/**
 * How the Redis store keeps done ids: `v1` one key per id (~200 B of Redis memory; the layout of
 * the versions before this option), `v2` 64-bit fingerprints in intset groups (~10–15 B), `dual`
 * both (for the rolling upgrade from a version before layouts).
 */
export type RedisLayout = 'v1' | 'v2' | 'dual';

/** Redis store settings. */
export interface DedupRedisOptions {
  /**
   * An existing ioredis client — `Redis` or `Cluster` — (not closed by the module), instead of
   * `url` / `cluster`.
   */
  client?: Redis | Cluster;
  /** `redis://` or `rediss://` (TLS) URL; used when neither `client` nor `cluster` is given. @default 'redis://127.0.0.1:6379' */
  url?: string;
  /**
   * Redis Cluster: the startup nodes (`'host:port'` or `{ host, port }`) and ioredis `Cluster`
   * options. Batches run one script per hash slot.
   * @example { nodes: ['10.0.0.1:7000', '10.0.0.2:7000'] }
   */
  cluster?: {
    nodes: Array<string | { host: string; port: number }>;
    options?: ClusterOptions;
  };
  /** Extra ioredis options (merged over the module's fail-fast defaults; per node on a cluster). */
  options?: RedisOptions;
  /** Prefix of every key. @default 'kafka-dedup:' */
  keyPrefix?: string;
  /**
   * How long a consumer's liveness record outlives its last refresh (every `ownerTtl / 3`), in ms.
   * A claim whose owner's record has expired is taken over at once, so after a crash the
   * redelivered events wait at most about this long, not the whole `leaseTtl`. An owner whose
   * event loop or Redis connection stalls longer than this can lose its claims. @default 5_000
   */
  ownerTtl?: number;
  /** How long the bootstrap check waits for Redis to answer `PING`, in ms. @default 5_000 */
  startupTimeout?: number;
  /**
   * Start even when the bootstrap check fails (wrong password, untrusted certificate, Redis down),
   * logging the cause; `onStoreError` then applies until Redis answers. @default false
   */
  allowDegradedStart?: boolean;
  /**
   * Start even when Redis' `maxmemory-policy` can evict dedup keys (`allkeys-*`, `volatile-*`),
   * logging a warning; `kafka_dedup_window_reliable` is then 0. Without it such a policy fails the
   * start naming the setting. @default false
   */
  allowEvictingPolicy?: boolean;
  /**
   * How done ids are kept: `'v1'` one key per id (the layout and scripts of versions without this
   * option), `'v2'` fingerprints grouped in small Redis sets (~15x less Redis memory, ~1.3x the
   * Redis CPU per message), `'dual'` both. A `v2` claim also sees `v1` records; a `v1` process (or
   * an earlier version) does not see `v2` groups, so moving a running consumer group to `v2` goes
   * through `'dual'`: deploy with `'dual'`, then with `'v2'` (README "Redis memory and layouts").
   * @default 'v1'
   */
  layout?: RedisLayout;
}

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
  'layout',
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
  if (options.layout !== undefined && !['v1', 'v2', 'dual'].includes(options.layout as string)) {
    throw new DedupOptionsError('redis.layout', options.layout, "expected 'v1', 'v2' or 'dual'");
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
