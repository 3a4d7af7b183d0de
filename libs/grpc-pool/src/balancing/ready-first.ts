import { connectivityState } from '@grpc/grpc-js';
import type { PoolConnection } from '../connection/pool-connection';
import type { TriedConnections } from './picker';

/**
 * "Prefer a READY connection on retry", for every picker. A retry or a hedge follows a failed or
 * slow first attempt, and when a backend dies its siblings' connections may die with it (two of
 * three backends killed at once); a connection that is reconnecting — ejected only once a
 * reconnect fails — would fail the retry too. So a retry goes to a READY connection it has not
 * tried, when there is one.
 *
 * One scan of the connections from `start`, no allocation: each picker owns one instance and
 * reads the fallbacks it recorded (the first untried connection that is not READY, the first
 * tried one) when no READY connection fits. @internal
 */
export class ReadyFirst {
  /** After {@link pick} found no READY connection: the first untried one (closed circuit). */
  untried: PoolConnection | undefined = undefined;
  /** After {@link pick} found no READY connection: the first tried one (closed circuit). */
  tried: PoolConnection | undefined = undefined;

  /**
   * The READY connection with a closed circuit not in `tried`, scanning from index `start`: the
   * first one, or with `cost` the cheapest (ties to the first scanned). Undefined when none is READY.
   */
  pick(
    connections: readonly PoolConnection[],
    tried: TriedConnections,
    start: number,
    now: number,
    cost?: (c: PoolConnection, now: number) => number,
  ): PoolConnection | undefined {
    this.untried = undefined;
    this.tried = undefined;
    const n = connections.length;
    let best: PoolConnection | undefined;
    let bestCost = Infinity;
    for (let k = 0; k < n; k++) {
      const c = connections[(start + k) % n];
      if (!c.breaker.closed) continue;
      if (tried.has(c)) {
        this.tried ??= c;
        continue;
      }
      if (c.connectivity !== connectivityState.READY) {
        this.untried ??= c;
        continue;
      }
      if (cost === undefined) return c;
      const cc = cost(c, now);
      if (cc < bestCost) {
        best = c;
        bestCost = cc;
      }
    }
    return best;
  }
}
