import { DedupOptionsError } from '../errors/dedup.errors';
import type { ResolvedAdaptiveTtl } from './adaptive-ttl';

/** `adaptiveTtl`: the TTL follows the ages of caught duplicates, within [min, max]. */
export interface DedupAdaptiveTtlOptions {
  /** Floor of the TTL in ms: it never goes below, whatever the ages say. Required. */
  min: number;
  /** Ceiling in ms. @default the `ttl` (the memory budget was sized for it) */
  max?: number;
  /** Which quantile of the duplicate ages the TTL covers. @default 0.999 */
  quantile?: number;
  /** The TTL is this multiple of that quantile. @default 4 */
  factor?: number;
  /** Duplicate ages seen (over the last 60 intervals) before the TTL moves. @default 1_000 */
  minSamples?: number;
  /** How often the TTL is reconsidered, in ms. @default 60_000 */
  intervalMs?: number;
}

const KNOWN = new Set(['min', 'max', 'quantile', 'factor', 'minSamples', 'intervalMs']);

/**
 * Validates `adaptiveTtl` against the starting `ttl` (which must lie in [min, max]). `undefined`
 * without the block, and while deduplication is off (`ttl: 0` stays a rollback knob). @internal
 */
export function resolveAdaptiveTtl(
  adaptive: unknown,
  ttl: number,
  maxTtl: number,
): ResolvedAdaptiveTtl | undefined {
  if (adaptive === undefined) return undefined;
  if (typeof adaptive !== 'object' || adaptive === null || Array.isArray(adaptive)) {
    throw new DedupOptionsError(
      'adaptiveTtl',
      adaptive,
      'expected { min, max?, quantile?, factor? }',
    );
  }
  const options = adaptive as Record<string, unknown>;
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name))
      throw new DedupOptionsError(`adaptiveTtl.${name}`, options[name], 'unknown option');
  }
  // ttl: 0 (deduplication off) stays a rollback knob that needs no other change.
  if (ttl === 0) return undefined;
  const int = (name: string, fallback: number | undefined, least: number): number => {
    const value = options[name] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < least || value > maxTtl) {
      throw new DedupOptionsError(
        `adaptiveTtl.${name}`,
        value,
        `expected an integer between ${least} and ${maxTtl}`,
      );
    }
    return value;
  };
  if (options.min === undefined) {
    throw new DedupOptionsError(
      'adaptiveTtl.min',
      undefined,
      'required: the lowest TTL (ms) you accept',
    );
  }
  const min = int('min', undefined, 1_000);
  const max = int('max', ttl, min);
  const quantile = options.quantile ?? 0.999;
  if (typeof quantile !== 'number' || !(quantile > 0 && quantile < 1)) {
    throw new DedupOptionsError(
      'adaptiveTtl.quantile',
      quantile,
      'expected a number between 0 and 1',
    );
  }
  const factor = options.factor ?? 4;
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) {
    throw new DedupOptionsError('adaptiveTtl.factor', factor, 'expected a number >= 1');
  }
  const resolved: ResolvedAdaptiveTtl = {
    min,
    max,
    quantile,
    factor,
    minSamples: int('minSamples', 1_000, 1),
    intervalMs: int('intervalMs', 60_000, 1_000),
  };
  if (ttl < min || ttl > max) {
    throw new DedupOptionsError(
      'ttl',
      ttl,
      `with adaptiveTtl, the starting ttl must lie within [adaptiveTtl.min ${min}, adaptiveTtl.max ${max}]`,
    );
  }
  return resolved;
}
