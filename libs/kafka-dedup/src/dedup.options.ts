import { CronTime } from 'cron';
import { DEFAULT_DEDUP_HEADER } from './dedup.constants';
import { DedupOptionsError } from './errors/dedup.errors';
import { bool, nonNegativeInt, positiveInt, str } from './options/option-checks';
import type {
  DedupKeySource,
  DedupModuleOptions,
  DedupRedisOptions,
  MissingKeyPolicy,
  StoreErrorPolicy,
} from './interfaces/dedup-options.interface';
import type { DedupStore } from './stores/dedup.store';
import { validateRedisOptions } from './stores/redis/redis-options';
import { validateMemoryOptions } from './stores/memory.options';
import type { MemorySnapshotSettings } from './stores/memory.store';
import {
  resolvePostgresOptions,
  type ResolvedPostgresOptions,
} from './stores/postgres/postgres-inbox.options';
import { resolveWindowOptions, type ResolvedWindowOptions } from './window/window.options';

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
