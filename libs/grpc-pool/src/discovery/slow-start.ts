import { latencyOf } from '../balancing/peak-ewma.picker';
import type { PoolConnection } from '../connection/pool-connection';

/**
 * The latency estimate a new address's connections start with: the pool's median estimate
 * raised so that it decays back to that median after `slowStartMs` (the estimate decays with time
 * constant `decayMs`): `median x e^(slowStartMs / decayMs)` (the exponent capped at 50, beyond
 * which the seed would overflow). The picker then sends the cold pod fewer calls than its siblings
 * at first, and its share grows as the seed decays. 0 (no slow start) when nothing is measured yet
 * or `slowStartMs` is 0. @internal
 */
export function slowStartSeed(medianMs: number, slowStartMs: number, decayMs: number): number {
  if (slowStartMs <= 0 || !(medianMs > 0)) return 0;
  return medianMs * Math.exp(Math.min(slowStartMs / decayMs, 50));
}

/** Median latency estimate (ms) of the connections that have one; 0 when none has. @internal */
export function medianLatency(connections: readonly PoolConnection[], now: number): number {
  const estimates = connections.map((c) => latencyOf(c, now)).filter((l) => l > 0);
  if (estimates.length === 0) return 0;
  estimates.sort((a, b) => a - b);
  return estimates[Math.floor(estimates.length / 2)];
}

/** Starts the slow start of `fresh` connections against the pool's current ones. @internal */
export function startSlowly(
  fresh: readonly PoolConnection[],
  current: readonly PoolConnection[],
  slowStartMs: number,
  decayMs: number,
): void {
  const now = performance.now();
  const seed = slowStartSeed(medianLatency(current, now), slowStartMs, decayMs);
  if (seed > 0) for (const c of fresh) c.latency.seed(seed, now);
}
