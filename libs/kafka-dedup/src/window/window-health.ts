import type { DegradableHealthResult, HealthResult } from '@nest-resilience/common';
import { windowBelowMinimum } from '../errors/window.messages';

/** The window fields of the health indicator's result. */
export interface WindowReport {
  /** How far back the store remembers now (`kafka_dedup_window_seconds`). */
  windowSeconds: number;
  /** `minWindowSeconds` (0 while deduplication is off). */
  minWindowSeconds: number;
  /** False when Redis may evict dedup keys (see `kafka_dedup_window_reliable`). */
  windowReliable: boolean;
}

/**
 * Adds the window to a store's health result; a store that is up is reported `degraded` when the
 * window is below `minWindowSeconds`, with a message saying so (a store that is down keeps its
 * own message). Degraded, not down: the store still answers and still catches every copy younger
 * than the window; taking the replica out of rotation would not lengthen it, while a dashboard and
 * an alert on the status (or on `kafka_dedup_window_seconds`) tell the operator to give it memory.
 * @internal
 */
export function withWindow<Key extends string>(
  key: Key,
  result: HealthResult<Key>,
  report: WindowReport | undefined,
): HealthResult<Key> | DegradableHealthResult<Key> {
  if (report === undefined) return result;
  const entry: { status: 'up' | 'down' | 'degraded' } & Record<string, unknown> = {
    ...result[key],
    ...report,
  };
  if (entry.status === 'up' && report.windowSeconds < report.minWindowSeconds) {
    entry.status = 'degraded';
    entry.message = windowBelowMinimum(report.windowSeconds, report.minWindowSeconds);
  }
  return { [key]: entry } as DegradableHealthResult<Key>;
}
