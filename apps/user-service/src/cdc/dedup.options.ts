import type { ConfigService } from '@nestjs/config';
import type { DedupModuleOptions } from '@nest-resilience/kafka-dedup';
import type { UserServiceConfig } from '../config/user-service.env';
import type { UserServiceDatabase } from '../database/user-service.database';

/** Kafka partitions one consumer handles at once (kafkajs `partitionsConsumedConcurrently`). */
export const CDC_PARTITIONS_IN_FLIGHT = 3;

/**
 * `DedupModule` options from the environment: `KAFKA_DEDUP_TTL_SECONDS=0` turns deduplication off
 * (the rollback knob); `KAFKA_DEDUP_STORE=postgres` (the default) records each id in the
 * transaction of the handler's writes (the inbox), in the app's own database: its node-postgres
 * pool, or its embedded PGlite instance. `KAFKA_DEDUP_BATCH_TRANSACTIONS=true` runs each chunk of a
 * fetched batch in one inbox transaction (batch mode). `KAFKA_DEDUP_REDIS_LAYOUT` picks the Redis
 * store's layout (`v1`, `dual`, `v2`: an upgrade's steps are deployments of this variable).
 */
export function dedupOptions(
  config: ConfigService<UserServiceConfig, true>,
  database: UserServiceDatabase,
): DedupModuleOptions {
  const store = config.get('dedupStore', { infer: true });
  const common = {
    group: config.get('kafkaGroupId', { infer: true }),
    ttl: config.get('dedupTtlSeconds', { infer: true }) * 1000,
    cleanupCron: config.get('dedupCleanupCron', { infer: true }),
  };
  if (store === 'redis') {
    return {
      ...common,
      store,
      redis: {
        url: config.get('dedupRedisUrl', { infer: true }),
        layout: config.get('dedupRedisLayout', { infer: true }),
      },
    };
  }
  if (store === 'postgres') {
    return {
      ...common,
      store,
      postgres: {
        ...(database.pool ? { pool: database.pool } : { pglite: database.pglite }),
        partitionsConsumedConcurrently: CDC_PARTITIONS_IN_FLIGHT,
        // Batch mode (see user-service.app.ts): one inbox transaction per chunk of a batch.
        batchTransactions: config.get('dedupBatchTransactions', { infer: true }),
      },
    };
  }
  return { ...common, store, maxEntries: config.get('dedupMaxEntries', { infer: true }) };
}
