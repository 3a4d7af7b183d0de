import type { DedupModuleOptions } from './dedup.options';

/**
 * Rollback knobs read from the environment: `KAFKA_DEDUP_TTL_SECONDS` (0 turns
 * deduplication off), `KAFKA_DEDUP_ENABLED` (`false` turns it off), `KAFKA_DEDUP_STORE`
 * (`memory` | `redis`), `KAFKA_DEDUP_REDIS_URL`, `KAFKA_DEDUP_REDIS_CLUSTER_NODES` (`host:port,…`),
 * `KAFKA_DEDUP_REDIS_LAYOUT` (`v1` | `dual` | `v2`: the steps of a layout upgrade or rollback are
 * then deployments of a variable, not of code), `KAFKA_DEDUP_SNAPSHOT_PATH`. Unset variables leave
 * the option out; values are validated with the other options at bootstrap.
 *
 * @example
 * DedupModule.forRoot({ group: 'user-service', ...dedupOptionsFromEnv() })
 */
export function dedupOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): DedupModuleOptions {
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
