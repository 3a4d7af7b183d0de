import { SlidingCounts } from '../stats/sliding-counts';

/**
 * Attempts and failures of one connection over a sliding window (10 buckets), for failure-rate
 * ejection (Envoy's `failure_percentage` outlier detection). No allocation per record. @internal
 */
export class FailureWindow {
  private readonly counts: SlidingCounts;

  constructor(windowMs: number, now: () => number = Date.now) {
    this.counts = new SlidingCounts(windowMs, now);
  }

  /** Attempts in the window. */
  get requests(): number {
    return this.counts.first;
  }

  /** Failed attempts in the window. */
  get failures(): number {
    return this.counts.second;
  }

  record(failure: boolean): void {
    this.counts.add(1, failure ? 1 : 0);
  }

  clear(): void {
    this.counts.clear();
  }
}
