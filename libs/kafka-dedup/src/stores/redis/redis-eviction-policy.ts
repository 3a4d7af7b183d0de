import type { LoggerService } from '@nestjs/common';
import { DedupEvictionPolicyError } from '../../errors/eviction-policy.error';
import { EVICTING_POLICY_FIX, evictingPolicyText } from '../../errors/window.messages';
import { isCluster, type RedisLike } from './redis-client';
import type { RedisLayout } from './redis-options';

/** What the bootstrap learnt of the Redis eviction settings. @internal */
export interface RedisEvictionPolicy {
  /** Per node asked (every master of a cluster): `host:port`, `maxmemory-policy`, `maxmemory`. */
  nodes: Array<{ node: string; policy: string; maxmemory: number }>;
  /** Every node answered `CONFIG GET`. */
  verified: boolean;
  /** Some node's policy can evict the store's keys (accepted by `redis.allowEvictingPolicy`). */
  evicting: boolean;
}

/**
 * Whether a `maxmemory-policy` can evict dedup keys: `allkeys-*` evicts any key and `volatile-*`
 * evicts keys with a TTL, which every dedup key has. Only `noeviction` keeps them (Redis then
 * refuses writes at `maxmemory`, which the store reports as errors instead of forgetting ids).
 * @internal
 */
export function policyCanEvict(policy: string): boolean {
  return policy !== 'noeviction';
}

/**
 * Reads `maxmemory-policy` and `maxmemory` (`CONFIG GET maxmemory*`, one round trip per node; on a
 * cluster every master) at bootstrap. A policy that can evict fails the start with
 * {@link DedupEvictionPolicyError} unless `allow` (then one warning, and the window metric is
 * marked unreliable). When `CONFIG` is refused or renamed (managed services often do), a warning
 * says so and the start goes on, unverified.
 * @internal
 */
export async function checkRedisEvictionPolicy(
  client: RedisLike,
  allow: boolean,
  within: <T>(promise: Promise<T>, what: string) => Promise<T>,
  logger: Pick<LoggerService, 'warn'>,
  layout: RedisLayout = 'v1',
): Promise<RedisEvictionPolicy> {
  const nodes = isCluster(client) ? client.nodes('master') : [client];
  const report: RedisEvictionPolicy = { nodes: [], verified: true, evicting: false };
  for (const node of nodes) {
    const name = `${node.options.host ?? '?'}:${node.options.port ?? '?'}`;
    let config: Record<string, string>;
    try {
      config = pairs(await within(node.config('GET', 'maxmemory*'), `CONFIG GET on ${name}`));
    } catch (error) {
      report.verified = false;
      logger.warn(
        `redis store: could not read maxmemory-policy on ${name} (${(error as Error).message}); ` +
          'if it can evict keys (allkeys-*, volatile-*), ids are forgotten before their TTL under memory pressure — make sure it is noeviction',
      );
      continue;
    }
    const policy = config['maxmemory-policy'] ?? 'unknown';
    const maxmemory = Number(config.maxmemory ?? 0);
    report.nodes.push({ node: name, policy, maxmemory });
    if (!policyCanEvict(policy)) continue;
    if (!allow) throw new DedupEvictionPolicyError(name, policy, maxmemory);
    report.evicting = true;
    logger.warn(
      `redis store: ${evictingPolicyText(name, policy, maxmemory)} — starting anyway (redis.allowEvictingPolicy); kafka_dedup_window_reliable is 0. ` +
        (layout === 'v1'
          ? ''
          : `With redis.layout '${layout}' an evicted in-flight claim key leaves its id reading as done: an event whose handler then fails, or whose consumer dies, can be skipped. `) +
        `To fix: ${EVICTING_POLICY_FIX}`,
    );
  }
  return report;
}

/** `CONFIG GET` answers a flat [name, value, …] list (RESP2) or a map. */
function pairs(answer: unknown): Record<string, string> {
  if (!Array.isArray(answer)) return (answer ?? {}) as Record<string, string>;
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < answer.length; i += 2) out[String(answer[i])] = String(answer[i + 1]);
  return out;
}
