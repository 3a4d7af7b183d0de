import { createRequire } from 'node:module';
import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { requireOptionalPeer } from '../../dedup.peers';
import type { DedupRedisOptions } from './redis-options';

/** A standalone ioredis client or a Redis Cluster client. @internal */
export type RedisLike = Redis | Cluster;

type IoRedis = typeof import('ioredis');

/**
 * Bounds a Redis outage without a timer per command (ioredis `commandTimeout` arms one per
 * command): commands fail at once while disconnected (no offline
 * queue), a dead socket is detected by `socketTimeout` (one timer per socket, re-armed per reply
 * burst), connecting is bounded by `connectTimeout`. `onStoreError` decides what a failed command
 * means for the message. Auto-pipelining is off: a consumer handles one message at a time per
 * partition, so there is nothing to batch, and each flush would build a Pipeline.
 * @internal
 */
export const FAIL_FAST: RedisOptions = {
  maxRetriesPerRequest: 1,
  connectTimeout: 2_000,
  socketTimeout: 2_000,
  enableOfflineQueue: false,
  enableAutoPipelining: false,
  retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2_000),
};

/** The same defaults for a cluster (the per-node options go under `redisOptions`). @internal */
export const FAIL_FAST_CLUSTER: ClusterOptions = {
  enableOfflineQueue: false,
  enableAutoPipelining: false,
  maxRedirections: 4,
  retryDelayOnClusterDown: 100,
  clusterRetryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2_000),
  slotsRefreshTimeout: 2_000,
};

/** ioredis, loaded on first use: a memory-store app does not need it installed. @internal */
export function loadIoredis(): IoRedis {
  return requireOptionalPeer<IoRedis>('ioredis', 'the Redis dedup store');
}

/**
 * `cluster-key-slot`, the slot function ioredis itself uses (one of its dependencies), resolved
 * next to ioredis so the slots we group keys by are exactly the ones ioredis routes by. @internal
 */
export function loadSlotFunction(): (key: string | Buffer) => number {
  const fromIoredis = createRequire(require.resolve('ioredis'));
  return fromIoredis('cluster-key-slot') as (key: string | Buffer) => number;
}

/** Builds the client described by the options; `owned` when the store must close it. @internal */
export function createRedisClient(options: DedupRedisOptions): {
  client: RedisLike;
  owned: boolean;
} {
  if (options.client !== undefined) return { client: options.client, owned: false };
  const ioredis = loadIoredis();
  if (options.cluster !== undefined) {
    const { nodes, options: clusterOptions = {} } = options.cluster;
    const client = new ioredis.Cluster(nodes as never, {
      ...FAIL_FAST_CLUSTER,
      ...clusterOptions,
      redisOptions: { ...FAIL_FAST, ...options.options, ...clusterOptions.redisOptions },
    });
    return { client, owned: true };
  }
  const client = new ioredis.Redis(options.url ?? 'redis://127.0.0.1:6379', {
    ...FAIL_FAST,
    ...options.options,
  });
  return { client, owned: true };
}

/** Whether `client` is an ioredis `Cluster`. @internal */
export function isCluster(client: RedisLike): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/** Counts the keys under `prefix` with SCAN (on every master of a cluster), owner records aside. @internal */
export async function countKeys(redis: RedisLike, prefix: string): Promise<number> {
  const nodes = isCluster(redis) ? redis.nodes('master') : [redis];
  let count = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      count += keys.filter((k) => !k.startsWith(`${prefix}_owner:`)).length;
    } while (cursor !== '0');
  }
  return count;
}
