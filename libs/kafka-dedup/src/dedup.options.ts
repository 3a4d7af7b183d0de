import { CronTime } from 'cron';
import { DEFAULT_DEDUP_HEADER } from './dedup.constants';
import { DedupOptionsError } from './errors/dedup.errors';
import { bool, nonNegativeInt, positiveInt, str } from './options/option-checks';
import type {
  DedupKeyFunction,
  DedupKeySource,
  MissingKeyPolicy,
  StoreErrorPolicy,
} from './interfaces/dedup-options.interface';
import type { DedupStore } from './stores/dedup.store';
import {
  validateMemoryOptions,
  type DedupMemoryOptions,
  type MemorySnapshotSettings,
} from './stores/memory/memory.options';
import {
  resolvePostgresOptions,
  type DedupPostgresOptions,
  type ResolvedPostgresOptions,
} from './stores/postgres/postgres-inbox.options';
import { validateRedisOptions, type DedupRedisOptions } from './stores/redis/redis-options';
import type { DedupAdaptiveTtlOptions } from './window/adaptive-ttl.options';
import { resolveWindowOptions, type ResolvedWindowOptions } from './window/window.options';

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
   * The health indicator reports the store `degraded` when the dedup window (how far back it
   * remembers, `kafka_dedup_window_seconds`) falls below this many seconds; 0: never.
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

/** Options after validation, with every default filled in. @internal */
export interface ResolvedDedupOptions {
  enabled: boolean;
  ttl: number;
  leaseTtl: number;
  inFlightWait: number;
  key: DedupKeySource;
  group: string;
  onMissingKey: MissingKeyPolicy;
  onStoreError: StoreErrorPolicy;
  store: 'memory' | 'redis' | 'postgres' | DedupStore;
  maxEntries: number;
  /** The window: memory budget, `minWindowSeconds`, early-eviction warnings. */
  window: ResolvedWindowOptions;
  redis: DedupRedisOptions;
  /** Memory store snapshot settings, when `memory.snapshotPath` is set. */
  memory?: MemorySnapshotSettings;
  /** Set with `store: 'postgres'`. */
  postgres?: ResolvedPostgresOptions;
  cleanupCron: string | false;
  cleanupSliceMs: number;
  applyToAllHandlers: boolean;
  duplicateReply?: (key: string) => unknown;
}

const MAX_TTL = 2 ** 31 - 1;

const KNOWN_OPTIONS = new Set([
  'enabled',
  'ttl',
  'leaseTtl',
  'inFlightWait',
  'key',
  'group',
  'onMissingKey',
  'onStoreError',
  'store',
  'maxEntries',
  'maxMemory',
  'minWindowSeconds',
  'windowWarningIntervalMs',
  'adaptiveTtl',
  'redis',
  'memory',
  'postgres',
  'cleanupCron',
  'cleanupSliceMs',
  'applyToAllHandlers',
  'duplicateReply',
  'isGlobal',
]);

/** Validates the user's options once, at module creation, and fills in the defaults. @internal */
export function resolveDedupOptions(options: DedupModuleOptions = {}): ResolvedDedupOptions {
  for (const name of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(name)) throw new DedupOptionsError(name, undefined, 'unknown option');
  }
  const ttl = nonNegativeInt('ttl', options.ttl, 3_600_000);
  // The memory store keeps expiries as uint32 ms offsets; windows past ~24 days are not a dedup use.
  if (ttl > MAX_TTL)
    throw new DedupOptionsError('ttl', ttl, `expected at most ${MAX_TTL} ms (~24 days)`);
  const leaseTtl = positiveInt('leaseTtl', options.leaseTtl, 30_000);
  const window = resolveWindowOptions(options, ttl);
  const resolved: ResolvedDedupOptions = {
    enabled: bool('enabled', options.enabled, true) && ttl > 0,
    ttl,
    leaseTtl,
    inFlightWait: nonNegativeInt('inFlightWait', options.inFlightWait, leaseTtl),
    key: resolveKeySource('key', options.key),
    group: str('group', options.group, ''),
    onMissingKey: oneOf(
      'onMissingKey',
      options.onMissingKey,
      ['process', 'skip', 'error'],
      'process',
    ),
    onStoreError: oneOf('onStoreError', options.onStoreError, ['process', 'throw'], 'process'),
    store: resolveStore(options.store),
    maxEntries: window.maxEntries,
    window,
    redis: validateRedisOptions(options.redis),
    memory: validateMemoryOptions(options.memory, resolveStore(options.store), ttl),
    cleanupCron: resolveCron(options.cleanupCron),
    cleanupSliceMs: positiveInt('cleanupSliceMs', options.cleanupSliceMs, 2),
    applyToAllHandlers: bool('applyToAllHandlers', options.applyToAllHandlers, false),
    duplicateReply: options.duplicateReply,
  };
  if (options.duplicateReply !== undefined && typeof options.duplicateReply !== 'function') {
    throw new DedupOptionsError('duplicateReply', options.duplicateReply, 'expected a function');
  }
  if (resolved.store !== 'redis' && options.redis !== undefined) {
    throw new DedupOptionsError('redis', '{…}', 'only meaningful with store: "redis"');
  }
  if (resolved.store === 'postgres') resolved.postgres = resolvePostgresOptions(options.postgres);
  else if (options.postgres !== undefined) {
    throw new DedupOptionsError('postgres', '{…}', 'only meaningful with store: "postgres"');
  }
  return resolved;
}

/**
 * `applyToAllHandlers` registers a global interceptor, so it must be known when the module is
 * declared (`forRoot({ applyToAllHandlers })`, `forRootAsync({ applyToAllHandlers, useFactory })`);
 * a factory that returns a different value fails the bootstrap instead of being ignored. @internal
 */
export function checkApplyToAllHandlers(fromOptions: unknown, declared: boolean): boolean {
  if (fromOptions !== undefined && fromOptions !== declared) {
    throw new DedupOptionsError(
      'applyToAllHandlers',
      fromOptions,
      `must be given to forRootAsync({ applyToAllHandlers: ${String(fromOptions)}, useFactory, … }) itself, not returned by the factory (it decides which providers exist)`,
    );
  }
  return declared;
}

/** Validates a key source (module-level or from `@Deduplicate()`). @internal */
export function resolveKeySource(
  option: string,
  key: DedupKeySource | ((...args: never[]) => unknown) | undefined,
): DedupKeySource {
  if (key === undefined) return { from: 'header', name: DEFAULT_DEDUP_HEADER };
  if (typeof key === 'function') return { from: 'function', extract: key as never };
  if (typeof key !== 'object' || key === null) {
    throw new DedupOptionsError(
      option,
      key,
      'expected { from: "header" | "key" | "value" | "function", … }',
    );
  }
  switch (key.from) {
    case 'header':
      return { from: 'header', name: str(`${option}.name`, key.name, DEFAULT_DEDUP_HEADER, true) };
    case 'key':
      return { from: 'key' };
    case 'value': {
      const paths = Array.isArray(key.path) ? key.path : [key.path];
      if (paths.length === 0 || paths.some((p) => typeof p !== 'string' || p.trim() === '')) {
        throw new DedupOptionsError(
          `${option}.path`,
          key.path,
          'expected a non-empty dot path or a list of them',
        );
      }
      return { from: 'value', path: paths };
    }
    case 'function':
      if (typeof key.extract !== 'function') {
        throw new DedupOptionsError(`${option}.extract`, key.extract, 'expected a function');
      }
      return key;
    default:
      throw new DedupOptionsError(
        `${option}.from`,
        (key as { from?: unknown }).from,
        'unknown key source; expected "header", "key", "value" or "function"',
      );
  }
}

function resolveStore(store: DedupModuleOptions['store']): ResolvedDedupOptions['store'] {
  if (store === undefined) return 'memory';
  if (store === 'memory' || store === 'redis' || store === 'postgres') return store;
  if (typeof store === 'object' && store !== null && typeof store.claim === 'function')
    return store;
  throw new DedupOptionsError(
    'store',
    store,
    'expected "memory", "redis", "postgres" or a DedupStore instance',
  );
}

function resolveCron(cron: string | false | undefined): string | false {
  if (cron === false) return false;
  const expression = str('cleanupCron', cron, '0 */10 * * * *', true);
  try {
    new CronTime(expression);
  } catch (error) {
    throw new DedupOptionsError(
      'cleanupCron',
      cron,
      `not a valid cron expression (${(error as Error).message})`,
    );
  }
  return expression;
}

function oneOf<T extends string>(
  name: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw new DedupOptionsError(
      name,
      value,
      `expected one of ${allowed.map((a) => `"${a}"`).join(', ')}`,
    );
  }
  return value as T;
}
