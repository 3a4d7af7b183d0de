import { SlidingCounts } from '../stats/sliding-counts';

/**
 * Bounds retries to `minPerSecond` + `ratio` x requests over a sliding window (10 buckets), so an
 * outage cannot turn into a retry storm (after gRPC's retry throttling and Envoy's retry budgets).
 * @internal
 */
export class RetryBudget {
  /** first: requests (first attempts), second: retries. */
  private readonly counts: SlidingCounts;
  private readonly minRetries: number;

  constructor(
    private readonly ratio: number,
    minPerSecond: number,
    windowMs: number,
    now: () => number = Date.now,
  ) {
    this.counts = new SlidingCounts(windowMs, now);
    this.minRetries = (minPerSecond * windowMs) / 1000;
  }

  /** Counts a request (its first attempt). */
  recordRequest(): void {
    this.counts.add(1, 0);
  }

  /** Takes one retry from the budget; false when it is spent. */
  tryAcquireRetry(): boolean {
    this.counts.advance();
    const allowed = this.minRetries + this.ratio * this.counts.first;
    if (this.counts.second + 1 > allowed) return false;
    this.counts.add(0, 1);
    return true;
  }
}
