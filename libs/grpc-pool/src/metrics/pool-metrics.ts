import { status } from '@grpc/grpc-js';
import type { GrpcPoolMetrics } from './grpc-pool.metrics';
import {
  EJECTION_REASONS,
  type CircuitState,
  type EjectionReason,
} from '../connection/connection-breaker';

interface CounterChild {
  inc(value?: number): void;
}

/**
 * The metrics of one method of one pool, label children bound once (prom-client hashes a label
 * object on every `inc()` otherwise). @internal
 */
export class MethodMetrics {
  readonly retries: CounterChild;
  readonly hedges: CounterChild;
  private readonly duration: { observe(value: number): void };
  private readonly byCode: CounterChild[] = [];

  constructor(
    private readonly metrics: GrpcPoolMetrics,
    private readonly pool: string,
    private readonly service: string,
    private readonly method: string,
  ) {
    this.retries = metrics.fallbackRetry.labels(pool, service, method);
    this.hedges = metrics.hedges.labels(pool, service, method);
    this.duration = metrics.duration.labels(pool, service, method);
  }

  /** One finished call: its final code and its duration (retries included). */
  record(code: number, seconds: number): void {
    let child = this.byCode[code];
    if (child === undefined) {
      child = this.metrics.requests.labels(
        this.pool,
        this.service,
        this.method,
        status[code] ?? 'UNKNOWN',
      );
      this.byCode[code] = child;
    }
    child.inc();
    this.duration.observe(seconds);
  }
}

/** The metrics of one pool with bounded label children bound once. @internal */
export class PoolMetrics {
  readonly switched: CounterChild;
  readonly budgetExhausted: CounterChild;
  private readonly ejected = new Map<EjectionReason, CounterChild>();
  private readonly methods = new Map<string, MethodMetrics>();

  constructor(
    private readonly metrics: GrpcPoolMetrics,
    private readonly pool: string,
  ) {
    this.switched = metrics.connectionSwitched.labels(pool);
    this.budgetExhausted = metrics.budgetExhausted.labels(pool);
    for (const reason of EJECTION_REASONS) {
      this.ejected.set(reason, metrics.ejections.labels(pool, reason));
    }
  }

  /** Metrics of `service`/`method`, created on first use and kept. */
  method(service: string, method: string): MethodMetrics {
    const key = `${service}/${method}`;
    let m = this.methods.get(key);
    if (m === undefined) {
      m = new MethodMetrics(this.metrics, this.pool, service, method);
      this.methods.set(key, m);
    }
    return m;
  }

  ejection(reason: EjectionReason): void {
    this.ejected.get(reason)?.inc();
  }

  circuits(states: readonly { index: number; state: CircuitState }[], healthy: number): void {
    for (const { index, state } of states) {
      this.metrics.circuitState.set(
        { pool: this.pool, connection: String(index) },
        state === 'closed' ? 0 : state === 'half-open' ? 1 : 2,
      );
    }
    this.metrics.healthyConnections.set({ pool: this.pool }, healthy);
  }

  closed(): void {
    this.metrics.healthyConnections.set({ pool: this.pool }, 0);
  }
}
