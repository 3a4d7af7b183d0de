import type { PoolConnection } from '../connection/pool-connection';
import type { Picker, TriedConnections } from './picker';
import { ReadyFirst } from './ready-first';

/**
 * Round-robin over connections with a closed circuit (a counter, no lock). A retry or a hedge
 * takes the next READY connection it has not tried ({@link ReadyFirst}), else the next untried
 * one, else (`reuse`) a tried one. @internal
 */
export class RoundRobinPicker implements Picker {
  private cursor = 0;
  private readonly retry = new ReadyFirst();

  pick(
    connections: readonly PoolConnection[],
    tried: TriedConnections | undefined,
    reuse: boolean,
    now = 0,
  ): PoolConnection | undefined {
    const n = connections.length;
    const start = this.cursor++ % n;
    if (this.cursor >= 0x3fffffff) this.cursor = 0;
    if (tried === undefined) {
      for (let i = 0; i < n; i++) {
        const c = connections[(start + i) % n];
        if (c.breaker.closed) return c;
      }
      return undefined;
    }
    const retry = this.retry;
    return (
      retry.pick(connections, tried, start, now) ??
      retry.untried ??
      (reuse ? retry.tried : undefined)
    );
  }
}
