import { formatByteSize } from '../util/byte-size';

/** Texts of the window's warnings and errors. @internal */

/** What {@link earlyEvictionWarning} reports. @internal */
export interface EarlyEvictionFacts {
  windowMs: number;
  ttlMs: number;
  /** Ids evicted before their TTL since the last report. */
  evicted: number;
  /** New ids per second over the window (the table's capacity / the window). */
  ratePerSecond: number;
  capacity: number;
  /** The `maxMemory` the table was sized from, when it was. */
  budgetBytes?: number;
  /** Entries that would hold the TTL at this rate, and their bytes. */
  neededEntries: number;
  neededBytes: number;
}

/** The memory store forgets ids younger than the TTL. @internal */
export function earlyEvictionWarning(f: EarlyEvictionFacts): string {
  const bound =
    f.budgetBytes !== undefined
      ? `maxMemory ${formatByteSize(f.budgetBytes)} (${f.capacity} ids)`
      : `maxEntries ${f.capacity}`;
  const restore =
    f.budgetBytes !== undefined
      ? `maxMemory: '${formatByteSize(f.neededBytes)}' (${f.neededEntries} ids)`
      : `maxEntries: ${f.neededEntries} (~${formatByteSize(f.neededBytes)}), or maxMemory: '${formatByteSize(f.neededBytes)}'`;
  return (
    `memory store: the dedup window is ${seconds(f.windowMs)} s, shorter than the ttl of ${seconds(f.ttlMs)} s: ` +
    `${f.evicted} ids were evicted before their TTL to respect ${bound} at ~${Math.round(f.ratePerSecond)} new ids/s; ` +
    `a copy older than the window runs its handler again. To remember the whole ttl at this rate: ${restore} ` +
    `(see kafka_dedup_window_seconds and kafka_dedup_duplicate_age_seconds)`
  );
}

/** Health detail when the window is below `minWindowSeconds`. @internal */
export function windowBelowMinimum(windowSeconds: number, minWindowSeconds: number): string {
  return `dedup window ${round(windowSeconds)} s is below minWindowSeconds ${minWindowSeconds} s: copies older than the window are processed again`;
}

/** The Redis store's policy can evict its keys. @internal */
export function evictingPolicyText(node: string, policy: string, maxmemory: number): string {
  const limit = maxmemory > 0 ? `maxmemory ${maxmemory} bytes` : 'maxmemory 0 (no limit yet)';
  return (
    `Redis ${node} has maxmemory-policy ${policy} (${limit}): under memory pressure it evicts dedup keys ` +
    `(they carry a TTL, so volatile-* policies evict them too) and their copies are processed again`
  );
}

/** How to fix or accept {@link evictingPolicyText}. @internal */
export const EVICTING_POLICY_FIX =
  'set maxmemory-policy noeviction (redis.conf, or CONFIG SET maxmemory-policy noeviction) and size maxmemory for the window';

function seconds(ms: number): number {
  return round(ms / 1000);
}

function round(value: number): number {
  return value >= 100 ? Math.round(value) : Math.round(value * 10) / 10;
}
