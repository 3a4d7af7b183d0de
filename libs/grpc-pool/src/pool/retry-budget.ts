/**
 * Bounds retries to `minPerSecond` + `ratio` x requests over a sliding window (10 buckets), so an
 * outage cannot turn into a retry storm (after gRPC's retry throttling and Envoy's retry budgets).
 * @internal
 */
export class RetryBudget {
  private readonly bucketMs: number;
  private readonly requests: Uint32Array;
  private readonly retries: Uint32Array;
  private bucket = 0;
  private bucketStart: number;

  constructor(
    private readonly ratio: number,
    private readonly minPerSecond: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.bucketMs = windowMs / 10;
    this.requests = new Uint32Array(10);
    this.retries = new Uint32Array(10);
    this.bucketStart = now();
  }

  /** Counts a request (its first attempt). */
  recordRequest(): void {
    this.advance();
    this.requests[this.bucket]++;
  }

  /** Takes one retry from the budget; false when it is spent. */
  tryAcquireRetry(): boolean {
    this.advance();
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < 10; i++) {
      requests += this.requests[i];
      retries += this.retries[i];
    }
    const allowed = (this.minPerSecond * this.windowMs) / 1000 + this.ratio * requests;
    if (retries + 1 > allowed) return false;
    this.retries[this.bucket]++;
    return true;
  }

  private advance(): void {
    const now = this.now();
    if (now - this.bucketStart < this.bucketMs) return; // still in the current bucket
    let steps = Math.floor((now - this.bucketStart) / this.bucketMs);
    this.bucketStart += steps * this.bucketMs;
    if (steps > 10) steps = 10;
    while (steps-- > 0) {
      this.bucket = (this.bucket + 1) % 10;
      this.requests[this.bucket] = 0;
      this.retries[this.bucket] = 0;
    }
  }
}
