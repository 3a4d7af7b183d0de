import type { HealthResult } from '../peers/health-result';
import { windowBelowMinimum } from './window.messages';

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
 * Adds the window to a store's health result; a store that is up is reported down when the
 * window is below `minWindowSeconds`, with a message saying so (a store that is down keeps its
 * own message). @internal
 */
export function withWindow<Key extends string>(
  key: Key,
  result: HealthResult<Key>,
  report: WindowReport | undefined,
): HealthResult<Key> {
  if (report === undefined) return result;
  const entry: { status: 'up' | 'down' } & Record<string, unknown> = { ...result[key], ...report };
  if (entry.status === 'up' && report.windowSeconds < report.minWindowSeconds) {
    entry.status = 'down';
    entry.message = windowBelowMinimum(report.windowSeconds, report.minWindowSeconds);
  }
  return { [key]: entry } as unknown as HealthResult<Key>;
}
