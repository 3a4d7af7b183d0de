import { DedupOptionsError } from '../errors/dedup.errors';
import { positiveInt } from '../options/option-checks';
import { entriesForBudget } from '../stores/memory/memory-budget';
import type { ResolvedAdaptiveTtl } from './adaptive-ttl';
import { resolveAdaptiveTtl } from './adaptive-ttl.options';
import { parseByteSize } from '../util/byte-size';

/** Default `maxEntries` of the memory store. */
const MAX_ENTRIES = 1_000_000;
/** Default `windowWarningIntervalMs`. */
const WARNING_INTERVAL = 60_000;
/**
 * `minWindowSeconds` when the TTL is the default one: copies that Kafka itself makes (a producer
 * retry, a redelivery after a rebalance or a crash) come back within a session timeout plus a
 * poll interval (kafkajs 30 s, Java clients up to `max.poll.interval.ms` = 300 s), so a window
 * under 5 minutes lets those through.
 */
const DEFAULT_MIN_WINDOW_SECONDS = 300;
/** Longest TTL (the memory store keeps expiries as uint32 ms offsets). */
const MAX_TTL = 2 ** 31 - 1;

/** The window settings after validation. @internal */
export interface ResolvedWindowOptions {
  /** Entries of the memory store's table: `maxEntries`, or what `maxMemory` holds. */
  maxEntries: number;
  /** `maxMemory` in bytes, when the table was sized from it. */
  budgetBytes?: number;
  /** Below this the health indicator reports the window as too short; 0: never. */
  minWindowSeconds: number;
  /** Shortest time between two early-eviction warnings. */
  warningIntervalMs: number;
  /** `adaptiveTtl`, when given (and deduplication is on). */
  adaptiveTtl?: ResolvedAdaptiveTtl;
}

/** The options {@link resolveWindowOptions} reads. @internal */
export interface WindowOptionsInput {
  ttl?: unknown;
  store?: unknown;
  maxEntries?: unknown;
  maxMemory?: unknown;
  minWindowSeconds?: unknown;
  windowWarningIntervalMs?: unknown;
  adaptiveTtl?: unknown;
}

/**
 * Validates `maxEntries` / `maxMemory`, `minWindowSeconds` and `windowWarningIntervalMs`.
 * `minWindowSeconds` defaults to the TTL when `ttl` is given (the window the user asked for), and
 * to 300 s under the default TTL (see {@link DEFAULT_MIN_WINDOW_SECONDS}), never above the TTL;
 * with `adaptiveTtl`, to its `min` (the TTL may go down to it). @internal
 */
export function resolveWindowOptions(
  options: WindowOptionsInput,
  ttl: number,
): ResolvedWindowOptions {
  const ttlSeconds = ttl / 1000;
  const adaptiveTtl = resolveAdaptiveTtl(options.adaptiveTtl, ttl, MAX_TTL);
  const floorSeconds = adaptiveTtl !== undefined ? adaptiveTtl.min / 1000 : ttlSeconds;
  const resolved: ResolvedWindowOptions = {
    maxEntries: positiveInt('maxEntries', options.maxEntries, MAX_ENTRIES),
    minWindowSeconds:
      options.ttl === undefined && adaptiveTtl === undefined
        ? Math.min(DEFAULT_MIN_WINDOW_SECONDS, ttlSeconds)
        : floorSeconds,
    warningIntervalMs: positiveInt(
      'windowWarningIntervalMs',
      options.windowWarningIntervalMs,
      WARNING_INTERVAL,
    ),
    adaptiveTtl,
  };
  if (options.minWindowSeconds !== undefined) {
    const min = options.minWindowSeconds;
    if (typeof min !== 'number' || !Number.isFinite(min) || min < 0) {
      throw new DedupOptionsError('minWindowSeconds', min, 'expected a number of seconds >= 0');
    }
    if (min > floorSeconds) {
      throw new DedupOptionsError(
        'minWindowSeconds',
        min,
        adaptiveTtl !== undefined
          ? `expected at most adaptiveTtl.min (${floorSeconds} s): the ttl may go down to it`
          : `expected at most the ttl (${ttlSeconds} s): the window never exceeds the ttl`,
      );
    }
    resolved.minWindowSeconds = min;
  }
  if (options.maxMemory === undefined) return resolved;
  if (options.store !== undefined && options.store !== 'memory') {
    throw new DedupOptionsError(
      'maxMemory',
      options.maxMemory,
      'only meaningful with store: "memory"',
    );
  }
  if (options.maxEntries !== undefined) {
    throw new DedupOptionsError(
      'maxMemory',
      options.maxMemory,
      `give maxMemory or maxEntries, not both (maxEntries = ${String(options.maxEntries)})`,
    );
  }
  const bytes = parseByteSize(options.maxMemory);
  if (bytes === undefined) {
    throw new DedupOptionsError(
      'maxMemory',
      options.maxMemory,
      "expected a number of bytes or a size such as '512MiB' or '2GiB'",
    );
  }
  const entries = entriesForBudget(bytes);
  if (entries < 1) {
    throw new DedupOptionsError('maxMemory', options.maxMemory, 'too small for one id (20 B)');
  }
  resolved.maxEntries = entries;
  resolved.budgetBytes = bytes;
  return resolved;
}
