export { DedupModule } from './dedup.module';
export { DEDUP_MODULE_OPTIONS } from './dedup.module-definition';
export { DedupService } from './dedup.service';
export type { DedupDecision, AcquireContext } from './service/dedup.decision';
export { DedupInterceptor } from './dedup.interceptor';
export { DedupKafkaServer, type DedupKafkaServerOptions } from './batch/dedup-kafka.server';
export { DedupHandlerError } from './dedup.handler-error';
export { Deduplicate, SkipDeduplication } from './dedup.decorators';
export {
  DedupHealthIndicator,
  type DedupHealthCheckOptions,
  type DedupHealthResult,
} from './dedup.health';
export { DedupWindow } from './dedup.window';
export type { WindowReport } from './window/window-health';
export type { DedupAdaptiveTtlOptions } from './window/adaptive-ttl.options';
export { DedupEvictionPolicyError } from './errors/eviction-policy.error';
export type { HealthResult } from '@nest-resilience/common';
export { DEDUP_CLEANUP_JOB, DEDUP_METRICS, DEFAULT_DEDUP_HEADER } from './dedup.constants';
export { dedupOptionsFromEnv } from './dedup.env';
export { DedupStore, type CleanupResult } from './stores/dedup.store';
export { MemoryDedupStore } from './stores/memory/memory.store';
export { RedisDedupStore } from './stores/redis/redis.store';
export { PostgresInboxStore } from './stores/postgres/postgres-inbox.store';
export {
  InboxTransaction,
  getInboxClient,
  type InboxClient,
} from './stores/postgres/inbox.context';
export type {
  PGliteLike,
  PGliteResultsLike,
  PGliteTransactionLike,
  PgPoolLike,
  PgPoolClientLike,
  PgQueryable,
  PgResultLike,
} from './stores/postgres/inbox.drivers';
export { migratePostgresInbox } from './stores/postgres/inbox.migration';
export { inboxMigrationSql, DEFAULT_INBOX_TABLE } from './stores/postgres/inbox.sql';
export type { DedupPostgresOptions } from './stores/postgres/postgres-inbox.options';
export type { DedupRedisOptions } from './stores/redis/redis-options';
export type { DedupMemoryOptions } from './stores/memory/memory.options';
export type { DedupModuleOptions } from './dedup.options';
export { BinarySafeKafkaParser, BinarySafeServerKafka } from './keys/binary-safe-kafka-parser';
export * from './errors/dedup.errors';
export type * from './interfaces/dedup-options.interface';
export type * from './interfaces/dedup-key.interface';
