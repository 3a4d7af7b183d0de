import type * as PromClient from 'prom-client';
import type {
  Counter,
  CounterConfiguration,
  Gauge,
  GaugeConfiguration,
  Histogram,
  HistogramConfiguration,
} from 'prom-client';
import { loadOptionalPeer } from './optional-peer';

/**
 * Metrics are registered in prom-client's default registry when `prom-client` is installed (the
 * registry `PrometheusModule` of @willsoto/nestjs-prometheus and most exporters serve); without it
 * every metric is a no-op, so an app without Prometheus still boots. A metric already registered
 * under the same name is reused (a second module in the same process, tests). @internal
 */
export function counter(config: CounterConfiguration<string>): Counter<string> {
  return getOrCreate(config, (prom) => new prom.Counter(config));
}

/** @internal */
export function gauge(config: GaugeConfiguration<string>): Gauge<string> {
  return getOrCreate(config, (prom) => new prom.Gauge(config));
}

/** @internal */
export function histogram(config: HistogramConfiguration<string>): Histogram<string> {
  return getOrCreate(config, (prom) => new prom.Histogram(config));
}

let prom: typeof PromClient | null | undefined;

function getOrCreate<M>(config: { name: string }, create: (prom: typeof PromClient) => M): M {
  if (prom === undefined) prom = loadOptionalPeer<typeof PromClient>('prom-client') ?? null;
  if (prom === null) return NOOP as M;
  return (prom.register.getSingleMetric(config.name) as M | undefined) ?? create(prom);
}

const noop = (): void => undefined;
/** Stands in for a Counter, Gauge or Histogram (and their label-bound children). */
const NOOP: Record<string, unknown> = {
  inc: noop,
  dec: noop,
  set: noop,
  setToCurrentTime: noop,
  observe: noop,
  reset: noop,
  remove: noop,
  zero: noop,
  startTimer: () => () => 0,
  get: () =>
    Promise.resolve({ name: '', help: '', type: 'untyped', values: [], aggregator: 'sum' }),
};
NOOP.labels = () => NOOP;
