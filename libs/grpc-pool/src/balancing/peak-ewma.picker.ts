import type { PoolConnection } from '../connection/pool-connection';
import type { Picker, TriedConnections } from './picker';
import { ReadyFirst } from './ready-first';

/** Bias against a connection that has calls outstanding but never answered (still connecting?). */
const UNMEASURED_PENALTY = 1e5;
/** Added to the cost of a connection at the peer's stream limit: grpc-js would queue the call. */
const SATURATED_PENALTY = 1e9;

/**
 * Least expected wait over the pool's connections (Finagle's and linkerd's latency-weighted least
 * request, Envoy LEAST_REQUEST): the fit connection with the lowest `latency x (outstanding + 1)`,
 * where latency is the connection's EWMA, or how long its outstanding calls went unanswered if
 * longer (a frozen backend yields no samples, so its cost grows from its first unanswered call).
 * A connection at the peer's stream limit (load-driven size: `size.maxConcurrentStreams`) is taken
 * only when every one is. Equally cheap connections (new ones, idle ones) are chosen at random.
 *
 * Every connection is looked at, not two random ones (P2C): a pool has a few dozen connections at
 * most, the calls in flight are exact (no stale load to herd on), and with two random candidates a
 * pool of 3 connections with 2 on a slow backend sends a third of the calls there. A connection
 * whose estimate lags (idle, decayed) takes calls only until its calls in flight make it as dear
 * as the others. No allocation per pick. @internal
 */
export class PeakEwmaPicker implements Picker {
  /** A retry or a hedge: the cheapest READY connection it has not tried, when there is one. */
  private readonly retry = new ReadyFirst();
  private readonly costOf: (c: PoolConnection, now: number) => number;

  constructor(
    private readonly random: () => number = Math.random,
    /** Calls in flight beyond which a connection's calls queue (the peer's stream limit). */
    streamLimit = Infinity,
  ) {
    this.costOf = (c, now) => {
      const base = cost(c, now);
      return c.inFlight >= streamLimit ? SATURATED_PENALTY + base : base;
    };
  }

  pick(
    connections: readonly PoolConnection[],
    tried: TriedConnections | undefined,
    reuse: boolean,
    now = performance.now(),
  ): PoolConnection | undefined {
    const n = connections.length;
    if (n === 1)
      return eligible(connections[0], tried) || reuse ? closedOnly(connections[0]) : undefined;
    if (tried !== undefined) {
      const ready = this.retry.pick(connections, tried, 0, now, this.costOf);
      if (ready !== undefined) return ready;
    }
    let best: PoolConnection | undefined;
    let bestCost = Infinity;
    let ties = 0;
    let fallback: PoolConnection | undefined;
    for (let k = 0; k < n; k++) {
      const c = connections[k];
      if (!c.breaker.closed) continue;
      if (tried !== undefined && tried.has(c)) {
        fallback ??= c;
        continue;
      }
      const cc = this.costOf(c, now);
      if (cc < bestCost) {
        best = c;
        bestCost = cc;
        ties = 1;
      } else if (cc === bestCost && this.random() * ++ties < 1) {
        best = c; // each of the equally cheap connections with the same chance
      }
    }
    return best ?? (reuse ? fallback : undefined);
  }
}

function eligible(c: PoolConnection, tried: TriedConnections | undefined): boolean {
  return c.breaker.closed && (tried === undefined || !tried.has(c));
}

function closedOnly(c: PoolConnection): PoolConnection | undefined {
  return c.breaker.closed ? c : undefined;
}

/**
 * Latency estimate of `c`: its EWMA, or how long its outstanding calls went unanswered if longer
 * (a frozen backend yields no samples). @internal
 */
export function latencyOf(c: PoolConnection, now: number): number {
  const ewma = c.latency.estimate(now);
  const stalled = c.stalledMs();
  return stalled > ewma ? stalled : ewma;
}

/** Expected wait on `c`: its latency estimate times the calls it would serve. @internal */
export function cost(c: PoolConnection, now: number, latency = latencyOf(c, now)): number {
  if (latency === 0 && c.inFlight > 0) return UNMEASURED_PENALTY + c.inFlight;
  return latency * (c.inFlight + 1);
}
