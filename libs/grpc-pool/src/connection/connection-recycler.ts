import type { ConnectionSet } from './connection-set';
import type { PoolConnection } from './pool-connection';

/**
 * Replaces connections past `maxConnectionAgeMs` (±10% jitter), one per tick so capacity never
 * drops by more than one, letting new backends behind an L4 balancer get traffic. Calls in flight
 * on the old channel complete; new calls go to the fresh one. @internal
 */
export class ConnectionRecycler {
  private readonly timer: NodeJS.Timeout;
  private readonly draining = new Map<NodeJS.Timeout, PoolConnection>();

  constructor(
    private readonly connections: ConnectionSet,
    maxConnectionAgeMs: number,
    private readonly onReplaced: () => void,
  ) {
    this.timer = setInterval(() => this.tick(), Math.min(maxConnectionAgeMs / 4, 5_000));
    this.timer.unref();
  }

  /** Stops recycling and closes the connections still draining. */
  stop(): void {
    clearInterval(this.timer);
    for (const [drain, connection] of this.draining) {
      clearInterval(drain);
      connection.close();
    }
    this.draining.clear();
  }

  private tick(): void {
    const now = Date.now();
    const due = this.connections.all.find((c) => c.recycleAt <= now);
    if (!due) return;
    this.connections.replace(due);
    const drain = setInterval(() => {
      if (due.inFlight === 0) {
        clearInterval(drain);
        this.draining.delete(drain);
        due.close();
      }
    }, 100);
    drain.unref();
    this.draining.set(drain, due);
    this.onReplaced();
  }
}
