/**
 * Weight of one new latency at least, however close to the previous one it comes: with many
 * calls per ms a purely time-based weight would keep a passing peak (a GC pause, the first call's
 * connection setup) for a whole `decayMs`.
 */
const MIN_SAMPLE_WEIGHT = 0.1;

/**
 * Peak-EWMA latency estimate of one connection (Finagle/linkerd): a latency above the estimate
 * replaces it at once (the peak), a lower one is blended in with a weight that grows with the time
 * since the last observation (at least {@link MIN_SAMPLE_WEIGHT}), and with no observations the
 * estimate decays towards 0 with time constant `decayMs`, so a connection that was slow gets one
 * call again after a few `decayMs`. Times in ms. @internal
 */
export class PeakEwma {
  private cost = 0;
  private stamp: number;

  constructor(
    private readonly decayMs: number,
    private readonly now: () => number = performance.now.bind(performance),
  ) {
    this.stamp = this.now();
  }

  /** Records the latency of one answered (or timed-out) attempt; `now` when the caller has it. */
  observe(latencyMs: number, now = this.now()): void {
    if (latencyMs > this.cost) {
      this.cost = latencyMs;
    } else {
      const w = Math.min(Math.exp(-(now - this.stamp) / this.decayMs), 1 - MIN_SAMPLE_WEIGHT);
      this.cost = this.cost * w + latencyMs * (1 - w);
    }
    this.stamp = now;
  }

  /** The current estimate, decayed to now (no state change). */
  estimate(now: number): number {
    const elapsed = now - this.stamp;
    return elapsed <= 0 ? this.cost : this.cost * Math.exp(-elapsed / this.decayMs);
  }
}
