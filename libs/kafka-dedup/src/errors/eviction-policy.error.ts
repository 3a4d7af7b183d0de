import { EVICTING_POLICY_FIX, evictingPolicyText } from './window.messages';

/**
 * The Redis store's bootstrap found a `maxmemory-policy` that can evict dedup keys (`allkeys-*`,
 * `volatile-*`): evicted ids are forgotten before their TTL and their copies run again. Thrown
 * unless `redis.allowEvictingPolicy` is true; names the node, the policy and `maxmemory`.
 */
export class DedupEvictionPolicyError extends Error {
  constructor(
    /** `host:port` of the Redis (a master, on a cluster). */
    readonly node: string,
    /** The node's `maxmemory-policy`. */
    readonly policy: string,
    /** The node's `maxmemory` in bytes (0: no limit). */
    readonly maxmemory: number,
  ) {
    super(
      `KafkaDedup: ${evictingPolicyText(node, policy, maxmemory)}; ${EVICTING_POLICY_FIX}, or accept it with redis.allowEvictingPolicy: true`,
    );
    this.name = 'DedupEvictionPolicyError';
  }
}
