const BUCKETS = 10;

/**
 * Two counts over a sliding window of 10 buckets, with running totals (what Envoy's outlier
 * detection and retry budgets keep): a bucket that slides out of the window is subtracted, so
 * reading a total is O(1) and recording allocates nothing. @internal
 */
export class SlidingCounts {
  private readonly bucketMs: number;
  private readonly firsts = new Uint32Array(BUCKETS);
  private readonly seconds = new Uint32Array(BUCKETS);
  private bucket = 0;
  private bucketStart: number;
  private firstTotal = 0;
  private secondTotal = 0;

  constructor(
    windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.bucketMs = windowMs / BUCKETS;
    this.bucketStart = now();
  }

  /** The first count over the window, as of the last `add()` or `advance()`. */
  get first(): number {
    return this.firstTotal;
  }

  /** The second count over the window, as of the last `add()` or `advance()`. */
  get second(): number {
    return this.secondTotal;
  }

  /** Adds to the current bucket (sliding the window to now first). */
  add(first: number, second: number): void {
    this.advance();
    this.firsts[this.bucket] += first;
    this.seconds[this.bucket] += second;
    this.firstTotal += first;
    this.secondTotal += second;
  }

  clear(): void {
    this.firsts.fill(0);
    this.seconds.fill(0);
    this.firstTotal = 0;
    this.secondTotal = 0;
  }

  /** Slides the window to now: buckets that left it are subtracted from the totals. */
  advance(): void {
    const now = this.now();
    if (now - this.bucketStart < this.bucketMs) return; // still in the current bucket
    let steps = Math.floor((now - this.bucketStart) / this.bucketMs);
    this.bucketStart += steps * this.bucketMs;
    if (steps > BUCKETS) steps = BUCKETS;
    while (steps-- > 0) {
      this.bucket = (this.bucket + 1) % BUCKETS;
      this.firstTotal -= this.firsts[this.bucket];
      this.secondTotal -= this.seconds[this.bucket];
      this.firsts[this.bucket] = 0;
      this.seconds[this.bucket] = 0;
    }
  }
}
