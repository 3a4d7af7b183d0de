import type { KafkaContext } from '@nestjs/microservices';
import type { Cluster, ClusterOptions, RedisOptions, Redis } from 'ioredis';
import type { DedupStore } from '../stores/dedup.store';
import type { DedupPostgresOptions } from '../stores/postgres/postgres-inbox.options';
import type { DedupAdaptiveTtlOptions } from '../window/adaptive-ttl.options';

/** A Kafka message as Nest's Kafka parser hands it over (headers and key already decoded). */
export interface DedupKafkaMessage {
  key?: unknown;
  value?: unknown;
  headers?: Record<string, unknown>;
  offset?: string;
}

/** Returns the event id of a message, or `undefined` when it has none. */
export type DedupKeyFunction = (
  message: DedupKafkaMessage,
  context: KafkaContext,
) => string | Buffer | undefined | null;

/** Where the event id comes from. */
export type DedupKeySource =
  /** A header (default `x-event-id`); string or Buffer values. */
  | { from: 'header'; name?: string }
  /** The Kafka message key. */
  | { from: 'key' }
  /**
   * One or more dot paths into the JSON value, joined with `:`, e.g. a Debezium envelope's
   * `['source.lsn', 'source.txId']`. A non-JSON value follows `onMissingKey`.
   */
  | { from: 'value'; path: string | string[] }
  /** Any function of the message. */
  | { from: 'function'; extract: DedupKeyFunction };

/** What to do with a message that has no key (or a malformed value when the key is a JSON path). */
export type MissingKeyPolicy = 'process' | 'skip' | 'error';
/** What to do when the store fails: process anyway (at-least-once) or throw so Kafka redelivers. */
export type StoreErrorPolicy = 'process' | 'throw';

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
}

/** Memory store settings (with `store: 'memory'`, the default). */
export interface DedupMemoryOptions {
  /**
   * File the done ids are saved to at shutdown (`app.enableShutdownHooks()` is needed for SIGTERM)
   * and every `snapshotIntervalMs`, and loaded from at start, so a restart does not forget them.
   * Written atomically; a corrupt file, or one written with another `maxEntries` or `ttl`, is
   * ignored with a warning. @default undefined (no snapshot)
   */
  snapshotPath?: string;
  /**
   * Period of the snapshot, in ms; 0 writes it only at shutdown. After a SIGKILL, the ids processed
   * since the last snapshot are forgotten. @default 5_000
   */
  snapshotIntervalMs?: number;
}

/** Options of `DedupModule.forRoot()`. */
export interface DedupModuleOptions {
  /** Turns deduplication off: every message reaches its handler. @default true */
  enabled?: boolean;
  /** How long a processed id is remembered, in ms; `0` disables deduplication (a rollback knob). @default 3_600_000 */
  ttl?: number;
  /**
   * How long an in-flight claim holds before another consumer may take over, in ms; renewed while
   * the handler runs, so it only bounds how long a crashed consumer blocks its events. @default 30_000
   */
  leaseTtl?: number;
  /**
   * How long a duplicate that arrives while its first copy is in flight waits for the outcome, in
   * ms; past it the message is thrown back to Kafka (redelivered later), never dropped. @default leaseTtl
   */
  inFlightWait?: number;
  /** Where the event id comes from. @default { from: 'header', name: 'x-event-id' } */
  key?: DedupKeySource | DedupKeyFunction;
  /** Consumer group name included in the key scope; set it when several groups share one Redis. @default '' */
  group?: string;
  /** @default 'process' */
  onMissingKey?: MissingKeyPolicy;
  /** @default 'process' */
  onStoreError?: StoreErrorPolicy;
  /** `'memory'` (default), `'redis'`, `'postgres'` (transactional inbox), or your own {@link DedupStore} instance. */
  store?: 'memory' | 'redis' | 'postgres' | DedupStore;
  /** Memory store: most ids remembered; the oldest is evicted (and counted) past it. @default 1_000_000 */
  maxEntries?: number;
  /**
   * Memory store: a memory budget for the id table instead of `maxEntries`, in bytes or as a size
   * (`'512MiB'`, `'2GiB'`, `'1.5GB'`); the table holds as many ids as fit (16–20 B each), so the
   * window stretches and shrinks with the event rate, up to the `ttl`.
   * @example '256MiB'
   */
  maxMemory?: number | string;
  /**
   * The health indicator reports the store down when the dedup window (how far back it remembers,
   * `kafka_dedup_window_seconds`) falls below this many seconds; 0: never.
   * @default the ttl when `ttl` is given; else 300 (Kafka's own copies come back within minutes)
   */
  minWindowSeconds?: number;
  /** Memory store: shortest time between two warnings that ids are evicted before their TTL, in ms. @default 60_000 */
  windowWarningIntervalMs?: number;
  /**
   * Let the TTL follow the ages of caught duplicates (`kafka_dedup_duplicate_age_seconds`): every
   * `intervalMs` it becomes `quantile` of the ages x `factor`, clamped to [`min`, `max`]; `ttl` is
   * the starting value. Never below `min`. @default undefined (the TTL stays `ttl`)
   * @example { min: 300_000, quantile: 0.999, factor: 4 }
   */
  adaptiveTtl?: DedupAdaptiveTtlOptions;
  /** Redis store settings (with `store: 'redis'`). */
  redis?: DedupRedisOptions;
  /** Memory store settings: snapshot file. */
  memory?: DedupMemoryOptions;
  /**
   * PostgreSQL inbox store settings (with `store: 'postgres'`): the event id is recorded in the
   * handler's own database transaction.
   */
  postgres?: DedupPostgresOptions;
  /** Cron expression of the TTL sweep (`@nestjs/schedule`); `false` disables the job. @default '0 *\/10 * * * *' */
  cleanupCron?: string | false;
  /** Longest a sweep may block the event loop before yielding, in ms. @default 2 */
  cleanupSliceMs?: number;
  /**
   * Deduplicate every Kafka handler of the app with the global `DedupInterceptor`
   * (`APP_INTERCEPTOR`, registered only when true). With `forRootAsync`, give it next to
   * `useFactory`, not from the factory. @default false
   */
  applyToAllHandlers?: boolean;
  /**
   * What a `@MessagePattern` caller receives for a skipped duplicate, from its event id. Avoid an
   * object with `key` or `value` properties: Nest's Kafka serializer takes it for a Kafka message.
   * @default undefined (the caller receives `null`)
   */
  duplicateReply?: (key: string) => unknown;
}

/** Options of `@Deduplicate()`: per-handler overrides. */
export interface DeduplicateOptions {
  key?: DedupKeySource | DedupKeyFunction;
  onMissingKey?: MissingKeyPolicy;
  /** Scope used instead of `<group>/<topic>` (e.g. to share ids between two topics). */
  scope?: string;
  /** Do not deduplicate this handler even when `applyToAllHandlers` is set. */
  skip?: boolean;
}
