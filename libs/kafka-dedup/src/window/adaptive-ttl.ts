import { DUPLICATE_AGE_BUCKETS } from './duplicate-age';

/** `adaptiveTtl` after validation (all times in ms). @internal */
export interface ResolvedAdaptiveTtl {
  min: number;
  max: number;
  quantile: number;
  factor: number;
  minSamples: number;
  intervalMs: number;
}

/** What one {@link AdaptiveTtl.adjust} decided. @internal */
export interface TtlDecision {
  from: number;
  to: number;
  /** Upper bound (s) of the bucket holding the quantile; Infinity past the last bucket. */
  quantileSeconds: number;
  samples: number;
}

/** Intervals of duplicate ages kept for the quantile (with the default 60 s interval: an hour). */
const HORIZON_INTERVALS = 60;

/**
 * Sets the TTL from the ages of caught duplicates: every `intervalMs`, the `quantile` of the ages
 * seen over the last {@link HORIZON_INTERVALS} intervals, read as the upper bound of its histogram
 * bucket (never below the truth), times `factor`, clamped to [`min`, `max`]. What keeps it safe:
 * - never below `min` (the user's floor) nor above `max` (by default the configured `ttl`, which
 *   the memory budget was sized for);
 * - nothing changes before `minSamples` ages were seen;
 * - it shrinks at most by half per interval and grows at once;
 * - ids keep the TTL they were stored with, so a shorter TTL only applies to new ids; while
 *   ids stored with other TTLs are alive, ages are computed with the largest TTL in force (an age
 *   is never under-estimated, which would pull the TTL down) and the window with the smallest.
 * Its blind spot, documented: only copies the window caught are seen, so copies later than the
 * window are invisible to it; `min` is the guard against that.
 * Touched only on duplicates (a bucket increment) and once per interval.
 * @internal
 */
export class AdaptiveTtl {
  private readonly intervals: Float64Array[] = [];
  private current: Float64Array;
  /** TTLs in force, newest last: [since (ms), ttl]. */
  private readonly history: Array<[number, number]>;

  constructor(
    private readonly settings: ResolvedAdaptiveTtl,
    private ttl: number,
    private readonly now: () => number = Date.now,
  ) {
    this.current = new Float64Array(DUPLICATE_AGE_BUCKETS.length + 1);
    this.intervals.push(this.current);
    this.history = [[now(), ttl]];
  }

  /** The TTL new ids get now. */
  get value(): number {
    return this.ttl;
  }

  /** Largest TTL a live id may have been stored with (for ages: never under-estimated). */
  largestInForce(): number {
    this.forget();
    let largest = 0;
    for (const [, ttl] of this.history) largest = Math.max(largest, ttl);
    return largest;
  }

  /** Smallest TTL a live id may have been stored with (for the window: never over-estimated). */
  smallestInForce(): number {
    this.forget();
    let smallest = Infinity;
    for (const [, ttl] of this.history) smallest = Math.min(smallest, ttl);
    return smallest;
  }

  /** Counts the age (s) of a caught duplicate. */
  observe(ageSeconds: number): void {
    let bucket = 0;
    while (bucket < DUPLICATE_AGE_BUCKETS.length && ageSeconds > DUPLICATE_AGE_BUCKETS[bucket])
      bucket++;
    this.current[bucket]++;
  }

  /** Closes the interval and applies the rule; returns what changed, if anything. */
  adjust(): TtlDecision | undefined {
    const { min, max, quantile, factor, minSamples } = this.settings;
    const totals = new Float64Array(DUPLICATE_AGE_BUCKETS.length + 1);
    for (const counts of this.intervals)
      for (let i = 0; i < counts.length; i++) totals[i] += counts[i];
    this.current = new Float64Array(DUPLICATE_AGE_BUCKETS.length + 1);
    this.intervals.push(this.current);
    if (this.intervals.length > HORIZON_INTERVALS) this.intervals.shift();
    let samples = 0;
    for (const count of totals) samples += count;
    if (samples < minSamples || samples === 0) return undefined;
    let seen = 0;
    let bucket = 0;
    for (; bucket < totals.length; bucket++) {
      seen += totals[bucket];
      if (seen >= quantile * samples) break;
    }
    const quantileSeconds =
      bucket < DUPLICATE_AGE_BUCKETS.length ? DUPLICATE_AGE_BUCKETS[bucket] : Infinity;
    const target = Math.min(max, Math.max(min, Math.ceil(quantileSeconds * 1000 * factor)));
    const next = target >= this.ttl ? target : Math.max(target, Math.ceil(this.ttl / 2));
    if (next === this.ttl) return undefined;
    const decision = { from: this.ttl, to: next, quantileSeconds, samples };
    this.ttl = next;
    this.history.push([this.now(), next]);
    return decision;
  }

  /** Drops TTLs that no live id can still carry (in force before now - max). */
  private forget(): void {
    const horizon = this.now() - this.settings.max;
    while (this.history.length > 1 && this.history[1][0] <= horizon) this.history.shift();
  }
}
