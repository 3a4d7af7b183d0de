const BUCKETS = 10;

/**
 * Attempts and failures of one connection over a sliding window (10 buckets), for failure-rate
 * ejection (Envoy's `failure_percentage` outlier detection). No allocation per record. @internal
 */
export class FailureWindow {
  private readonly bucketMs: number;
  private readonly total = new Uint32Array(BUCKETS);
  private readonly failed = new Uint32Array(BUCKETS);
  private bucket = 0;
  private bucketStart: number;
  /** Attempts in the window. */
  requests = 0;
  /** Failed attempts in the window. */
  failures = 0;

  constructor(
    windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.bucketMs = windowMs / BUCKETS;
    this.bucketStart = now();
  }

  record(failure: boolean): void {
    this.advance();
    this.total[this.bucket]++;
    this.requests++;
    if (failure) {
      this.failed[this.bucket]++;
      this.failures++;
    }
  }

  clear(): void {
    this.total.fill(0);
    this.failed.fill(0);
    this.requests = 0;
    this.failures = 0;
  }

  private advance(): void {
    const now = this.now();
    if (now - this.bucketStart < this.bucketMs) return; // still in the current bucket
    let steps = Math.floor((now - this.bucketStart) / this.bucketMs);
    this.bucketStart += steps * this.bucketMs;
    if (steps > BUCKETS) steps = BUCKETS;
    while (steps-- > 0) {
      this.bucket = (this.bucket + 1) % BUCKETS;
      this.requests -= this.total[this.bucket];
      this.failures -= this.failed[this.bucket];
      this.total[this.bucket] = 0;
      this.failed[this.bucket] = 0;
    }
  }
}
