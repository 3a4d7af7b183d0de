import { Injectable } from '@nestjs/common';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { DEDUP_METRICS } from './dedup.constants';
import { counter, gauge, histogram } from '@nest-resilience/common';
import { DedupStore } from './stores/dedup.store';
import { MemoryDedupStore } from './stores/memory/memory.store';
import { RedisDedupStore } from './stores/redis/redis.store';

const LABELS = ['topic', 'store'];

/**
 * Flushers of per-message counts kept as plain numbers on the hot path (prom-client hashes the
 * label set on every `inc()`, even on a bound child); run before every scrape. @internal
 */
export const beforeCollect = new Set<() => void>();
function flushCounts(): void {
  for (const flush of beforeCollect) flush();
}

/**
 * Typed access to the dedup metrics, registered in prom-client's default registry when
 * `prom-client` is installed (no-ops otherwise). @internal
 */
@Injectable()
export class DedupMetrics {
  readonly processed: Counter<string> = counter({
    name: DEDUP_METRICS.processed,
    collect: flushCounts,
    help: 'Kafka events passed to the handler',
    labelNames: LABELS,
  });
  readonly deduplicated: Counter<string> = counter({
    name: DEDUP_METRICS.deduplicated,
    collect: flushCounts,
    help: 'Kafka events skipped as duplicates',
    labelNames: LABELS,
  });
  readonly inFlightConflicts: Counter<string> = counter({
    name: DEDUP_METRICS.inFlightConflicts,
    collect: flushCounts,
    help: 'Kafka events that arrived while a copy was in flight',
    labelNames: LABELS,
  });
  readonly storeErrors: Counter<string> = counter({
    name: DEDUP_METRICS.storeErrors,
    collect: flushCounts,
    help: 'Dedup store operations that failed',
    labelNames: LABELS,
  });
  readonly missingKeys: Counter<string> = counter({
    name: DEDUP_METRICS.missingKeys,
    collect: flushCounts,
    help: 'Kafka events without a usable event id',
    labelNames: LABELS,
  });
  readonly evictions: Counter<string>;
  readonly liveEntries: Gauge<string>;
  readonly cleanupDuration: Histogram<string> = histogram({
    name: DEDUP_METRICS.cleanupDuration,
    help: 'Duration of TTL sweeps of the dedup store',
    labelNames: ['store'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
  });

  constructor(store: DedupStore) {
    let counted = 0;
    this.evictions = counter({
      name: DEDUP_METRICS.evictions,
      help: 'Ids evicted from the memory store before their TTL to respect maxEntries',
      labelNames: ['store'],
      // Read on scrape: the store counts evictions on its hot path without touching prom-client.
      collect() {
        const delta = store.evictions - counted;
        if (delta > 0) this.inc({ store: store.name }, delta);
        counted = store.evictions;
      },
    });
    if (store instanceof RedisDedupStore) {
      // Commits are not awaited (one round trip per message): the store counts their failures.
      let failedCommits = 0;
      beforeCollect.add(() => {
        const delta = store.backgroundErrors - failedCommits;
        if (delta > 0) this.storeErrors.inc({ topic: 'none', store: store.name }, delta);
        failedCommits = store.backgroundErrors;
      });
    }
    this.liveEntries = gauge({
      name: DEDUP_METRICS.liveEntries,
      help: 'Ids held by the dedup store (memory store; Redis counts are not scraped)',
      labelNames: ['store'],
      collect() {
        if (store instanceof MemoryDedupStore) this.set({ store: store.name }, store.size());
      },
    });
  }
}
