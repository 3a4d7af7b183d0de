import type { ResolvedSizing } from '../options/discovery.options';

/** Load of one address over the last decision interval. @internal */
export interface LoadSample {
  /** Connections the address has now. */
  connections: number;
  /** Calls in flight on them, averaged over the samples of the interval. */
  meanInFlight: number;
  /** Calls in flight on them, the highest sample of the interval. */
  peakInFlight: number;
}

/** A resize decision: connections to add (> 0) or drain (< 0), and the low-load clock to keep. @internal */
export interface ResizeDecision {
  delta: number;
  /** Since when (ms) the load has been low enough to drain; undefined when it is not. */
  lowSince: number | undefined;
}

/**
 * Decides how one address's connections change (gax-java's ChannelPool resizes the same way,
 * from in-flight counts):
 * - grow when the mean calls in flight per connection pass `targetInFlight` (below the server's
 *   stream limit, beyond which grpc-js queues calls silently): to `ceil(mean / target)`;
 * - shrink when even the interval's peak would fit in fewer connections at half the target, and
 *   has fitted for `shrinkAfterMs`: to that number (hysteresis: a load between half the target and
 *   the target changes nothing);
 * - at most `maxStep` connections per decision, always within `min`..`max`. @internal
 */
export function decideResize(
  sample: LoadSample,
  sizing: ResolvedSizing,
  lowSince: number | undefined,
  now: number,
): ResizeDecision {
  const n = sample.connections;
  if (n < sizing.min)
    return { delta: Math.min(sizing.min - n, sizing.maxStep), lowSince: undefined };
  const wanted = Math.ceil(sample.meanInFlight / sizing.targetInFlight);
  if (sample.meanInFlight > sizing.targetInFlight * n && n < sizing.max) {
    return { delta: Math.min(wanted - n, sizing.maxStep, sizing.max - n), lowSince: undefined };
  }
  const fits = Math.max(sizing.min, Math.ceil(sample.peakInFlight / (sizing.targetInFlight / 2)));
  if (fits >= n) return { delta: 0, lowSince: undefined };
  const since = lowSince ?? now;
  if (now - since < sizing.shrinkAfterMs) return { delta: 0, lowSince: since };
  return { delta: -Math.min(n - fits, sizing.maxStep), lowSince: since };
}
