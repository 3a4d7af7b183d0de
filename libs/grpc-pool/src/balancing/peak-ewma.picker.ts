import type { PoolConnection } from '../connection/pool-connection';
import type { Picker, TriedConnections } from './picker';
import { ReadyFirst } from './ready-first';

/** Bias against a connection that has calls outstanding but never answered (still connecting?). */
const UNMEASURED_PENALTY = 1e5;

/**
 * Power of two choices over outstanding calls weighted by peak-EWMA latency (Finagle, linkerd,
 * Envoy LEAST_REQUEST): two random candidates, the one with the lower `latency x (outstanding + 1)`
 * wins, and a candidate clearly slower than the other (2x and 5 ms) loses outright. When even the
 * winner is clearly slower than the best connection (both candidates bad), the best one is taken.
 * A slow or frozen connection stops getting new calls within a few calls, and load follows each
 * connection's real capacity. No allocation per pick. @internal
 */
export class PeakEwmaPicker implements Picker {
  /** A retry or a hedge: the cheapest READY connection it has not tried, when there is one. */
  private readonly retry = new ReadyFirst();

  constructor(private readonly random: () => number = Math.random) {}

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
      const ready = this.retry.pick(connections, tried, 0, now, cost);
      if (ready !== undefined) return ready;
    }
    const i = Math.floor(this.random() * n);
    let j = Math.floor(this.random() * (n - 1));
    if (j >= i) j++;
    const a = connections[i];
    const b = connections[j];
    const aOk = eligible(a, tried);
    const bOk = eligible(b, tried);
    if (aOk || bOk) {
      // The winner and its latency estimate (computed once per candidate).
      let winner: PoolConnection;
      let lw: number;
      if (aOk && bOk) {
        const la = latencyOf(a, now);
        const lb = latencyOf(b, now);
        if (aWins(a, la, b, lb)) {
          winner = a;
          lw = la;
        } else {
          winner = b;
          lw = lb;
        }
      } else {
        winner = aOk ? a : b;
        lw = latencyOf(winner, now);
      }
      // Both candidates may be bad (2 of 3 connections on one slow backend): a winner clearly
      // slower than the best connection gives way to it. Only checked when the winner is slow.
      return lw > DOMINANCE_FLOOR_MS
        ? (cheapest(connections, tried, now, winner, lw) ?? winner)
        : winner;
    }
    // Both candidates unfit (ejected or tried): the cheapest fit connection, scanned from i.
    let best: PoolConnection | undefined;
    let bestCost = Infinity;
    let fallback: PoolConnection | undefined;
    for (let k = 0; k < n; k++) {
      const c = connections[(i + k) % n];
      if (!c.breaker.closed) continue;
      if (tried !== undefined && tried.has(c)) {
        fallback ??= c;
        continue;
      }
      const cc = cost(c, now);
      if (cc < bestCost) {
        best = c;
        bestCost = cc;
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

/** A candidate this much slower than the other loses whatever the calls in flight. */
const DOMINANCE = 2;
/** …when the difference is also above this (ms): sub-ms loopback latencies are noise. */
const DOMINANCE_FLOOR_MS = 5;

/**
 * Latency estimate of `c`: its peak-EWMA, or how long its outstanding calls went unanswered if
 * longer (a frozen backend yields no samples). @internal
 */
export function latencyOf(c: PoolConnection, now: number): number {
  const ewma = c.latency.estimate(now);
  const stalled = c.stalledMs();
  return stalled > ewma ? stalled : ewma;
}

/** Expected wait on `c`: its latency estimate times the calls it would serve. @internal */
export function cost(c: PoolConnection, now: number, latency = latencyOf(c, now)): number {
  return costAt(c, latency);
}

function costAt(c: PoolConnection, latency: number): number {
  if (latency === 0 && c.inFlight > 0) return UNMEASURED_PENALTY + c.inFlight;
  return latency * (c.inFlight + 1);
}

/**
 * The cheapest fit connection (closed circuit, not in `tried`) other than `except` that is clearly
 * faster than `lw` ms (2x and 5 ms), for the rare pick whose winner is clearly slower than another
 * connection (both random candidates were bad). One allocation-free scan.
 */
function cheapest(
  connections: readonly PoolConnection[],
  tried: TriedConnections | undefined,
  now: number,
  except: PoolConnection | undefined,
  lw: number,
): PoolConnection | undefined {
  let best: PoolConnection | undefined;
  let bestCost = Infinity;
  for (let k = 0; k < connections.length; k++) {
    const c = connections[k];
    if (c === except || !eligible(c, tried)) continue;
    const l = latencyOf(c, now);
    if (l === 0 || !(lw > DOMINANCE * l && lw - l > DOMINANCE_FLOOR_MS)) continue;
    const cc = costAt(c, l);
    if (cc < bestCost) {
      best = c;
      bestCost = cc;
    }
  }
  return best;
}

/**
 * Whether `a` (latency `la`) is the better of two candidates: by cost, except that a clearly
 * slower one (2x, and 5 ms) loses outright. When the client itself is the bottleneck every
 * connection's latency includes the same queueing, and multiplying it by the calls in flight would
 * make a backend that is 200 ms slower look as good as the busy fast ones. Ties go to `a`.
 */
function aWins(a: PoolConnection, la: number, b: PoolConnection, lb: number): boolean {
  if (la !== 0 && lb !== 0) {
    if (la > DOMINANCE * lb && la - lb > DOMINANCE_FLOOR_MS) return false;
    if (lb > DOMINANCE * la && lb - la > DOMINANCE_FLOOR_MS) return true;
  }
  return costAt(a, la) <= costAt(b, lb);
}
