/**
 * Buckets of `kafka_dedup_duplicate_age_seconds`: 1 s to 1 day, about three per decade, so a
 * p99.9 read with `histogram_quantile` lands within a factor ~2–3 of the truth at any scale.
 * @internal
 */
export const DUPLICATE_AGE_BUCKETS = [
  1, 2, 5, 10, 30, 60, 120, 300, 600, 1_800, 3_600, 7_200, 21_600, 43_200, 86_400,
];

/** Age in seconds of a caught duplicate's original, from the ms its record still had to live. @internal */
export function duplicateAgeSeconds(ttlMs: number, remainingMs: number): number {
  return Math.max(0, ttlMs - remainingMs) / 1000;
}
