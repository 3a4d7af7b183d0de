import type { DedupModuleOptions } from './dedup.options';

/**
 * Rollback knobs read from the environment: `KAFKA_DEDUP_TTL_SECONDS` (0 turns
 * deduplication off), `KAFKA_DEDUP_ENABLED` (`false` turns it off), `KAFKA_DEDUP_STORE`
 * (`memory` | `redis`), `KAFKA_DEDUP_REDIS_URL`, `KAFKA_DEDUP_REDIS_CLUSTER_NODES` (`host:port,…`),
 * `KAFKA_DEDUP_REDIS_LAYOUT` (`v1` | `dual` | `v2`: the steps of a layout upgrade or rollback are
 * then deployments of a variable, not of code), `KAFKA_DEDUP_SNAPSHOT_PATH`. Unset variables leave
 * the option out; values are validated with the other options at bootstrap.
 *
 * Spread over options that set `redis` (or `memory`) in code, the env's `redis` object would replace
 * the code's whole (its `url`, `keyPrefix`, … gone with a lone `KAFKA_DEDUP_REDIS_LAYOUT`): give
 * those options as `base` instead, and the variables override them field by field.
 *
 * @example
 * DedupModule.forRoot({ group: 'user-service', ...dedupOptionsFromEnv() })
 * @example
 * DedupModule.forRoot(dedupOptionsFromEnv(process.env, {
 *   store: 'redis',
 *   redis: { url: 'redis://redis:6379', keyPrefix: 'orders:' }, // layout from the env
 * }))
 */
export function dedupOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  base?: DedupModuleOptions,
): DedupModuleOptions {
  const fromEnv = readEnv(env);
  if (base === undefined) return fromEnv;
  const merged: DedupModuleOptions = { ...base, ...fromEnv };
  if (base.redis && fromEnv.redis) merged.redis = { ...base.redis, ...fromEnv.redis };
  if (base.memory && fromEnv.memory) merged.memory = { ...base.memory, ...fromEnv.memory };
  return merged;
}

function readEnv(env: NodeJS.ProcessEnv): DedupModuleOptions {
  const options: DedupModuleOptions = {};
  if (env.KAFKA_DEDUP_TTL_SECONDS !== undefined && env.KAFKA_DEDUP_TTL_SECONDS !== '') {
    const seconds = Number(env.KAFKA_DEDUP_TTL_SECONDS);
    options.ttl = Number.isFinite(seconds)
      ? Math.round(seconds * 1000)
      : (env.KAFKA_DEDUP_TTL_SECONDS as never);
  }
  if (env.KAFKA_DEDUP_ENABLED !== undefined && env.KAFKA_DEDUP_ENABLED !== '') {
    options.enabled =
      env.KAFKA_DEDUP_ENABLED === 'true'
        ? true
        : env.KAFKA_DEDUP_ENABLED === 'false'
          ? false
          : (env.KAFKA_DEDUP_ENABLED as never);
  }
  if (env.KAFKA_DEDUP_STORE) options.store = env.KAFKA_DEDUP_STORE as DedupModuleOptions['store'];
  if (env.KAFKA_DEDUP_REDIS_URL) options.redis = { url: env.KAFKA_DEDUP_REDIS_URL };
  if (env.KAFKA_DEDUP_REDIS_CLUSTER_NODES) {
    options.redis = {
      ...options.redis,
      cluster: { nodes: env.KAFKA_DEDUP_REDIS_CLUSTER_NODES.split(',').map((n) => n.trim()) },
    };
  }
  if (env.KAFKA_DEDUP_REDIS_LAYOUT) {
    options.redis = {
      ...options.redis,
      layout: env.KAFKA_DEDUP_REDIS_LAYOUT.trim() as NonNullable<
        DedupModuleOptions['redis']
      >['layout'],
    };
  }
  if (env.KAFKA_DEDUP_SNAPSHOT_PATH)
    options.memory = { snapshotPath: env.KAFKA_DEDUP_SNAPSHOT_PATH };
  return options;
}
