import type { Counter, Gauge } from 'prom-client';
import { GRPC_POOL_METRICS as M } from '../grpc-pool.constants';
import { counter, gauge } from '@nest-resilience/common';
import { RESOLUTION_RESULTS, type ResolutionResult } from './dns-lookup';

interface CounterChild {
  inc(value?: number): void;
}

/**
 * Metrics of a pool's endpoints, label children bound once. Labels are bounded: pool, result,
 * direction, state — never an address (a churning deployment would grow the series without end).
 * @internal
 */
export class DiscoveryMetrics {
  private readonly endpointsGauge: Gauge<string>;
  private readonly connectionsGauge: Gauge<string>;
  private readonly circuitState: Gauge<string>;
  private readonly results = new Map<ResolutionResult, CounterChild>();
  private readonly up: CounterChild;
  private readonly down: CounterChild;

  constructor(private readonly pool: string) {
    this.endpointsGauge = gauge({
      name: M.endpoints,
      help: 'Addresses a pool has connections to (discovered or configured)',
      labelNames: ['pool'],
    });
    this.connectionsGauge = gauge({
      name: M.connections,
      help: 'Pooled connections: active (picked by calls) or draining (removed address or shrink)',
      labelNames: ['pool', 'state'],
    });
    const resolutions: Counter<string> = counter({
      name: M.resolutions,
      help: 'DNS resolutions of a pool, by result (ok, empty, not_found, timeout, error)',
      labelNames: ['pool', 'result'],
    });
    for (const r of RESOLUTION_RESULTS) this.results.set(r, resolutions.labels(pool, r));
    const resizes: Counter<string> = counter({
      name: M.resizes,
      help: 'Connections added (up) or drained (down) by load-driven sizing',
      labelNames: ['pool', 'direction'],
    });
    this.up = resizes.labels(pool, 'up');
    this.down = resizes.labels(pool, 'down');
    // The pool's own gauge (same name): a connection index that is gone loses its series.
    this.circuitState = gauge({
      name: M.circuitState,
      help: 'Circuit of each pooled connection: 0 closed, 1 half-open, 2 open',
      labelNames: ['pool', 'connection'],
    });
  }

  resolution(result: ResolutionResult): void {
    this.results.get(result)?.inc();
  }

  resized(delta: number): void {
    if (delta > 0) this.up.inc(delta);
    else if (delta < 0) this.down.inc(-delta);
  }

  counts(endpoints: number, active: number, draining: number): void {
    this.endpointsGauge.set({ pool: this.pool }, endpoints);
    this.connectionsGauge.set({ pool: this.pool, state: 'active' }, active);
    this.connectionsGauge.set({ pool: this.pool, state: 'draining' }, draining);
  }

  /** Drops the circuit series of a connection index no longer used. */
  forget(index: number): void {
    this.circuitState.remove({ pool: this.pool, connection: String(index) });
  }
}
