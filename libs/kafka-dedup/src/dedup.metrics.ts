import { Injectable } from '@nestjs/common';
import {
  InjectMetric,
  makeCounterProvider,
  makeGaugeProvider,
  makeHistogramProvider,
} from '@willsoto/nestjs-prometheus';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { DEDUP_METRICS } from './dedup.constants';
import { DedupStore } from './stores/dedup.store';
import { MemoryDedupStore } from './stores/memory.store';

const LABELS = ['topic', 'store'];

/** Prometheus metric providers (default prom-client registry; PrometheusModule optional). @internal */
export const dedupMetricProviders = [
  makeCounterProvider({
    name: DEDUP_METRICS.processed,
    help: 'Kafka events passed to the handler',
    labelNames: LABELS,
  }),
  makeCounterProvider({
    name: DEDUP_METRICS.deduplicated,
    help: 'Kafka events skipped as duplicates',
    labelNames: LABELS,
  }),
  makeCounterProvider({
    name: DEDUP_METRICS.inFlightConflicts,
    help: 'Kafka events that arrived while a copy was in flight',
    labelNames: LABELS,
  }),
  makeCounterProvider({
    name: DEDUP_METRICS.storeErrors,
    help: 'Dedup store operations that failed',
    labelNames: LABELS,
  }),
  makeCounterProvider({
    name: DEDUP_METRICS.missingKeys,
    help: 'Kafka events without a usable event id',
    labelNames: LABELS,
  }),
  makeCounterProvider({
    name: DEDUP_METRICS.evictions,
    help: 'Ids evicted from the memory store before their TTL to respect maxEntries',
    labelNames: ['store'],
    inject: [DedupStore],
    // Read on scrape: the store counts evictions on its hot path without touching prom-client.
    collect(this: Counter<string>, store: DedupStore) {
      const labels = { store: store.name };
      const seen = (this as unknown as { seen?: Map<DedupStore, number> }).seen ?? new Map();
      (this as unknown as { seen: Map<DedupStore, number> }).seen = seen;
      const delta = store.evictions - (seen.get(store) ?? 0);
      if (delta > 0) this.inc(labels, delta);
      seen.set(store, store.evictions);
    },
  }),
  makeGaugeProvider({
    name: DEDUP_METRICS.liveEntries,
    help: 'Ids held by the dedup store (memory store; Redis counts are not scraped)',
    labelNames: ['store'],
    inject: [DedupStore],
    collect(this: Gauge<string>, store: DedupStore) {
      if (store instanceof MemoryDedupStore) this.set({ store: store.name }, store.size());
    },
  }),
  makeHistogramProvider({
    name: DEDUP_METRICS.cleanupDuration,
    help: 'Duration of TTL sweeps of the dedup store',
    labelNames: ['store'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
  }),
];

/** Typed access to the dedup metrics. @internal */
@Injectable()
export class DedupMetrics {
  constructor(
    @InjectMetric(DEDUP_METRICS.processed) readonly processed: Counter<string>,
    @InjectMetric(DEDUP_METRICS.deduplicated) readonly deduplicated: Counter<string>,
    @InjectMetric(DEDUP_METRICS.inFlightConflicts) readonly inFlightConflicts: Counter<string>,
    @InjectMetric(DEDUP_METRICS.storeErrors) readonly storeErrors: Counter<string>,
    @InjectMetric(DEDUP_METRICS.missingKeys) readonly missingKeys: Counter<string>,
    @InjectMetric(DEDUP_METRICS.evictions) readonly evictions: Counter<string>,
    @InjectMetric(DEDUP_METRICS.liveEntries) readonly liveEntries: Gauge<string>,
    @InjectMetric(DEDUP_METRICS.cleanupDuration) readonly cleanupDuration: Histogram<string>,
  ) {}
}
