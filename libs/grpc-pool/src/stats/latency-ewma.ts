/**
 * Weight of one new latency at least, however close to the previous one it comes: with many
 * calls per ms a purely time-based weight would let one connection's estimate lag its latency by
 * hundreds of answers.
 */
const MIN_SAMPLE_WEIGHT = 0.1;

/**
 * Latency estimate of one connection: an exponentially weighted average of its answers' latencies
 * (the first one taken as is, each later one weighing at least {@link MIN_SAMPLE_WEIGHT}, more
 * the longer since the previous one), decaying towards 0 with time constant `decayMs` while the
 * connection gets no answers, so a connection that was slow gets a call again after a few
 * `decayMs`. A slow start raises it for a while ({@link seed}). Times in ms.
 *
 * No peak: Finagle's peak-EWMA takes a latency above the estimate at once, and on a loaded machine
 * one slow answer among hundreds (the client's own GC or scheduling) then starved a healthy
 * connection for seconds (bench:discovery's spread). The picker reacts to a backend that stops
 * answering through the connection's stall time instead (`PoolConnection.stalledMs`), before any
 * answer. @internal
 */
export class LatencyEwma {
  private mean = 0;
  /** When the last latency was observed; -Infinity before the first. */
  private seenAt = -Infinity;
  /** Slow-start handicap, decaying from `handicapAt` like the average. */
  private handicap = 0;
  private handicapAt = 0;

  constructor(
    private readonly decayMs: number,
    private readonly now: () => number = performance.now.bind(performance),
  ) {}

  /** Records the latency of one answered (or timed-out) attempt; `now` when the caller has it. */
  observe(latencyMs: number, now = this.now()): void {
    // The old average weighs e^(-elapsed / decayMs), at most 1 - MIN_SAMPLE_WEIGHT; nothing before
    // the first observation (seenAt -Infinity).
    const w = Math.min(Math.exp(-(now - this.seenAt) / this.decayMs), 1 - MIN_SAMPLE_WEIGHT);
    this.mean = this.mean * w + latencyMs * (1 - w);
    this.seenAt = now;
    if (this.handicap !== 0 && now - this.handicapAt > 5 * this.decayMs) this.handicap = 0; // < 1% left
  }

  /**
   * Raises the estimate to `latencyMs` now, decaying from there with `decayMs` (a slow start):
   * a handicap of a new connection's cost, kept apart from its measured latencies.
   */
  seed(latencyMs: number, now = this.now()): void {
    this.handicap = latencyMs;
    this.handicapAt = now;
  }

  /** The current estimate, decayed to now (no state change). */
  estimate(now: number): number {
    const elapsed = now - this.seenAt;
    const mean = elapsed <= 0 ? this.mean : this.mean * Math.exp(-elapsed / this.decayMs);
    if (this.handicap === 0) return mean;
    const h = this.handicap * Math.exp(-(now - this.handicapAt) / this.decayMs);
    return h > mean ? h : mean;
  }
}
