import { Injectable } from '@nestjs/common';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { GRPC_POOL_METRICS as M } from '../grpc-pool.constants';
import { counter, gauge, histogram } from '@nest-resilience/common';

/**
 * Typed access to the pool metrics, registered in prom-client's default registry when
 * `prom-client` is installed (no-ops otherwise). @internal
 */
@Injectable()
export class GrpcPoolMetrics {
  readonly connectionSwitched: Counter<string> = counter({
    name: M.connectionSwitched,
    help: 'Retries that moved a call to another pooled connection',
    labelNames: ['pool'],
  });
  readonly fallbackRetry: Counter<string> = counter({
    name: M.fallbackRetry,
    help: 'Retries of pooled gRPC calls',
    labelNames: ['pool', 'service', 'method'],
  });
  readonly requests: Counter<string> = counter({
    name: M.requests,
    help: 'Pooled gRPC calls by final status code',
    labelNames: ['pool', 'service', 'method', 'code'],
  });
  readonly duration: Histogram<string> = histogram({
    name: M.duration,
    help: 'Duration of pooled gRPC calls, retries included',
    labelNames: ['pool', 'service', 'method'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });
  readonly healthyConnections: Gauge<string> = gauge({
    name: M.healthyConnections,
    help: 'Pooled connections whose circuit is closed',
    labelNames: ['pool'],
  });
  readonly circuitState: Gauge<string> = gauge({
    name: M.circuitState,
    help: 'Circuit of each pooled connection: 0 closed, 1 half-open, 2 open',
    labelNames: ['pool', 'connection'],
  });
  readonly budgetExhausted: Counter<string> = counter({
    name: M.budgetExhausted,
    help: 'Retries refused because the retry budget was spent',
    labelNames: ['pool'],
  });
  readonly ejections: Counter<string> = counter({
    name: M.ejections,
    help: 'Connections ejected, by cause (unavailable, timeout, failure_rate, health_check, connectivity)',
    labelNames: ['pool', 'reason'],
  });
  readonly hedges: Counter<string> = counter({
    name: M.hedges,
    help: 'Hedged attempts sent (beyond the first attempt of a hedged call)',
    labelNames: ['pool', 'service', 'method'],
  });
}
