import { validateCronExpression } from 'cron';
import { EnvReader, InvalidEnvironmentError } from '../../../shared/env-reader';
import {
  AUTH_TARGET_ENV_DEFAULTS,
  AUTH_TARGET_OPTIONAL_VARS,
  readAuthTarget,
  type AuthTargetConfig,
} from './auth-target.env';

/** The validated configuration of user-service (`ConfigService<UserServiceConfig, true>`). */
export interface UserServiceConfig extends AuthTargetConfig {
  httpHost: string;
  httpPort: number;
  grpcUrl: string;
  kafkaBrokers: string[];
  kafkaGroupId: string;
  cdcTopic: string;
  cdcTopicPartitions: number;
  /** Largest CDC message value accepted (bytes); larger ones are skipped and counted. */
  cdcMaxEventBytes: number;
  kafkaStartupRetries: number;
  dedupTtlSeconds: number;
  /**
   * `postgres` (default): the inbox store, in the transaction of the handler's writes, in the
   * service's own database (PGlite or PostgreSQL); `memory` or `redis`: a separate dedup store.
   */
  dedupStore: 'memory' | 'redis' | 'postgres';
  /**
   * `KAFKA_DEDUP_BATCH_TRANSACTIONS=true` (postgres store only): the CDC consumer runs in batch
   * mode (`DedupKafkaServer`) with one inbox transaction per chunk of a batch.
   */
  dedupBatchTransactions: boolean;
  dedupRedisUrl: string;
  /**
   * `redis.layout` of the Redis store: `v1` (default: one key per remembered id), `v2` (compact
   * groups), `dual` (the middle step of an upgrade between them, either way).
   */
  dedupRedisLayout: 'v1' | 'dual' | 'v2';
  dedupCleanupCron: string;
  grpcPoolSize: number;
  /**
   * `pool` (default): auth calls go through the gRPC pool; `grpc-js`: through one plain grpc-js
   * channel with `round_robin` and a `retryPolicy` (the baseline `npm run bench:e2e` compares with).
   */
  authClient: 'pool' | 'grpc-js';
  authTimeoutMs: number;
  /** Memory store: most live ids its table holds (`maxEntries`). */
  dedupMaxEntries: number;
  /** Set: node-postgres on this server. Unset: embedded PGlite in {@link pgliteDataDir}. */
  databaseUrl?: string;
  /** `memory://` (nothing kept) or a directory. */
  pgliteDataDir: string;
  /**
   * Test hook, 0 = off: when set, SIGUSR2 busy-loops the event loop for this many ms (what a
   * stuck process looks like to the liveness probe).
   */
  debugEventLoopStallMs: number;
}

/** The environment variables user-service reads, with their defaults (also the README's table). */
export const USER_SERVICE_ENV_DEFAULTS = {
  HTTP_HOST: '127.0.0.1',
  HTTP_PORT: 3000,
  GRPC_URL: '127.0.0.1:50051',
  KAFKA_PORT: 9092,
  KAFKA_GROUP_ID: 'user-service',
  CDC_TOPIC: 'cdc.users',
  CDC_TOPIC_PARTITIONS: 3,
  CDC_MAX_EVENT_BYTES: 1_048_576,
  KAFKA_STARTUP_RETRIES: 30,
  KAFKA_DEDUP_TTL_SECONDS: 3600,
  KAFKA_DEDUP_STORE: 'postgres',
  KAFKA_DEDUP_BATCH_TRANSACTIONS: 'false',
  KAFKA_DEDUP_REDIS_URL: 'redis://127.0.0.1:6379',
  KAFKA_DEDUP_REDIS_LAYOUT: 'v1',
  KAFKA_DEDUP_CLEANUP_CRON: '0 */10 * * * *',
  KAFKA_DEDUP_MAX_ENTRIES: 1_000_000,
  ...AUTH_TARGET_ENV_DEFAULTS,
  GRPC_POOL_SIZE: 3,
  AUTH_CLIENT: 'pool',
  AUTH_TIMEOUT_MS: 2500,
  PGLITE_DATA_DIR: 'memory://',
  DEBUG_EVENT_LOOP_STALL_MS: 0,
} as const;

/** Every variable user-service reads (the defaults' names plus those without a default). */
export const USER_SERVICE_ENV_VARS: readonly string[] = [
  ...Object.keys(USER_SERVICE_ENV_DEFAULTS),
  'KAFKA_BROKERS',
  'DATABASE_URL',
  ...AUTH_TARGET_OPTIONAL_VARS,
];

const D = USER_SERVICE_ENV_DEFAULTS;

/**
 * `ConfigModule.forRoot({ validate })` for user-service: turns the environment into a
 * {@link UserServiceConfig} or throws {@link InvalidEnvironmentError} naming each bad variable.
 * A hand-written function rather than a schema library: a dozen variables, and no validation
 * library is otherwise a dependency.
 *
 * @example validateUserServiceEnv({ GRPC_POOL_SIZE: '1' }).grpcPoolSize // 1
 */
export function validateUserServiceEnv(env: Record<string, unknown>): UserServiceConfig {
  const r = new EnvReader(env);
  const kafkaPort = r.int('KAFKA_PORT', D.KAFKA_PORT, 1, 65535);
  const grpcPoolSize = r.int('GRPC_POOL_SIZE', D.GRPC_POOL_SIZE, 1, 64);
  const config: UserServiceConfig = {
    httpHost: r.string('HTTP_HOST', D.HTTP_HOST),
    httpPort: r.int('HTTP_PORT', D.HTTP_PORT, 0, 65535),
    grpcUrl: r.addresses('GRPC_URL', D.GRPC_URL)[0],
    kafkaBrokers: r.addresses('KAFKA_BROKERS', `127.0.0.1:${kafkaPort}`),
    kafkaGroupId: r.string('KAFKA_GROUP_ID', D.KAFKA_GROUP_ID),
    cdcTopic: r.string('CDC_TOPIC', D.CDC_TOPIC),
    cdcTopicPartitions: r.int('CDC_TOPIC_PARTITIONS', D.CDC_TOPIC_PARTITIONS, 1, 1000),
    cdcMaxEventBytes: r.int('CDC_MAX_EVENT_BYTES', D.CDC_MAX_EVENT_BYTES, 1024),
    kafkaStartupRetries: r.int('KAFKA_STARTUP_RETRIES', D.KAFKA_STARTUP_RETRIES, 0, 1000),
    dedupTtlSeconds: r.int('KAFKA_DEDUP_TTL_SECONDS', D.KAFKA_DEDUP_TTL_SECONDS, 0),
    dedupStore: r.oneOf('KAFKA_DEDUP_STORE', D.KAFKA_DEDUP_STORE, [
      'memory',
      'redis',
      'postgres',
    ] as const),
    dedupBatchTransactions:
      r.oneOf('KAFKA_DEDUP_BATCH_TRANSACTIONS', D.KAFKA_DEDUP_BATCH_TRANSACTIONS, [
        'true',
        'false',
      ] as const) === 'true',
    dedupRedisUrl: r.url('KAFKA_DEDUP_REDIS_URL', ['redis:', 'rediss:']) ?? D.KAFKA_DEDUP_REDIS_URL,
    dedupRedisLayout: r.oneOf('KAFKA_DEDUP_REDIS_LAYOUT', D.KAFKA_DEDUP_REDIS_LAYOUT, [
      'v1',
      'dual',
      'v2',
    ] as const),
    dedupCleanupCron: r.string('KAFKA_DEDUP_CLEANUP_CRON', D.KAFKA_DEDUP_CLEANUP_CRON),
    grpcPoolSize,
    authClient: r.oneOf('AUTH_CLIENT', D.AUTH_CLIENT, ['pool', 'grpc-js'] as const),
    dedupMaxEntries: r.int('KAFKA_DEDUP_MAX_ENTRIES', D.KAFKA_DEDUP_MAX_ENTRIES, 1, 2 ** 31 - 1),
    authTimeoutMs: r.int('AUTH_TIMEOUT_MS', D.AUTH_TIMEOUT_MS, 10, 60_000),
    databaseUrl: r.url('DATABASE_URL', ['postgres:', 'postgresql:']),
    pgliteDataDir: r.string('PGLITE_DATA_DIR', D.PGLITE_DATA_DIR),
    debugEventLoopStallMs: r.int(
      'DEBUG_EVENT_LOOP_STALL_MS',
      D.DEBUG_EVENT_LOOP_STALL_MS,
      0,
      600_000,
    ),
    ...readAuthTarget(r, grpcPoolSize),
  };
  if (!/^[\w.-]{1,249}$/.test(config.cdcTopic))
    r.fail('CDC_TOPIC', config.cdcTopic, 'a Kafka topic name');
  if (!validateCronExpression(config.dedupCleanupCron).valid)
    r.fail(
      'KAFKA_DEDUP_CLEANUP_CRON',
      config.dedupCleanupCron,
      'a cron expression (6 fields: seconds first)',
    );
  if (config.dedupBatchTransactions && config.dedupStore !== 'postgres')
    r.fail('KAFKA_DEDUP_BATCH_TRANSACTIONS', 'true', 'true only with KAFKA_DEDUP_STORE=postgres');
  if (r.problems.length > 0) throw new InvalidEnvironmentError('user-service', r.problems);
  return config;
}

/**
 * The CDC topic, read when the consumer's class is defined (`@EventPattern` takes a constant);
 * validated again with everything else at bootstrap.
 */
export function cdcTopicFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.CDC_TOPIC?.trim() || D.CDC_TOPIC;
}
