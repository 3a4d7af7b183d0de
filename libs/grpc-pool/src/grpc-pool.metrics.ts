import { Injectable } from '@nestjs/common';
import {
  InjectMetric,
  makeCounterProvider,
  makeGaugeProvider,
  makeHistogramProvider,
} from '@willsoto/nestjs-prometheus';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { GRPC_POOL_METRICS as M } from './grpc-pool.constants';

/** Prometheus providers of the pool metrics (default registry; PrometheusModule optional). @internal */
export const grpcPoolMetricProviders = [
  makeCounterProvider({
    name: M.connectionSwitched,
    help: 'Retries that moved a call to another pooled connection',
    labelNames: ['pool'],
  }),
  makeCounterProvider({
    name: M.fallbackRetry,
    help: 'Retries of pooled gRPC calls',
    labelNames: ['pool', 'service', 'method'],
  }),
  makeCounterProvider({
    name: M.requests,
    help: 'Pooled gRPC calls by final status code',
    labelNames: ['pool', 'service', 'method', 'code'],
  }),
  makeHistogramProvider({
    name: M.duration,
    help: 'Duration of pooled gRPC calls, retries included',
    labelNames: ['pool', 'service', 'method'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  }),
  makeGaugeProvider({
    name: M.healthyConnections,
    help: 'Pooled connections whose circuit is closed',
    labelNames: ['pool'],
  }),
  makeGaugeProvider({
    name: M.circuitState,
    help: 'Circuit of each pooled connection: 0 closed, 1 half-open, 2 open',
    labelNames: ['pool', 'connection'],
  }),
  makeCounterProvider({
    name: M.budgetExhausted,
    help: 'Retries refused because the retry budget was spent',
    labelNames: ['pool'],
  }),
  makeCounterProvider({
    name: M.ejections,
    help: 'Connections ejected after failures',
    labelNames: ['pool'],
  }),
];

/** Typed access to the pool metrics. @internal */
@Injectable()
export class GrpcPoolMetrics {
  constructor(
    @InjectMetric(M.connectionSwitched) readonly connectionSwitched: Counter<string>,
    @InjectMetric(M.fallbackRetry) readonly fallbackRetry: Counter<string>,
    @InjectMetric(M.requests) readonly requests: Counter<string>,
    @InjectMetric(M.duration) readonly duration: Histogram<string>,
    @InjectMetric(M.healthyConnections) readonly healthyConnections: Gauge<string>,
    @InjectMetric(M.circuitState) readonly circuitState: Gauge<string>,
    @InjectMetric(M.budgetExhausted) readonly budgetExhausted: Counter<string>,
    @InjectMetric(M.ejections) readonly ejections: Counter<string>,
  ) {}
}
