import type { DedupMetrics } from '../dedup.metrics';
import type { DedupStore } from '../stores/dedup.store';
import { LastKeyCache } from '../util/last-key.cache';

/**
 * Per-topic counts of the hot path as plain numbers, added to the Prometheus counters when they
 * are scraped: an increment costs nothing, and a scrape still sees exact totals. @internal
 */
export class TopicCounters {
  processed = 0;
  deduplicated = 0;
  inFlightConflicts = 0;
  missingKeys = 0;
  private readonly flushed = {
    processed: 0,
    deduplicated: 0,
    inFlightConflicts: 0,
    missingKeys: 0,
  };

  constructor(private readonly labels: { topic: string; store: string }) {}

  flushTo(metrics: DedupMetrics): void {
    this.flushOne(metrics, 'processed');
    this.flushOne(metrics, 'deduplicated');
    this.flushOne(metrics, 'inFlightConflicts');
    this.flushOne(metrics, 'missingKeys');
  }

  private flushOne(
    metrics: DedupMetrics,
    name: 'processed' | 'deduplicated' | 'inFlightConflicts' | 'missingKeys',
  ): void {
    const delta = this[name] - this.flushed[name];
    if (delta > 0) {
      metrics[name].inc(this.labels, delta);
      this.flushed[name] = this[name];
    }
  }
}

/**
 * The {@link TopicCounters} of every topic seen, created on first use. The hot path reads them
 * through {@link last} (consecutive messages mostly share a topic: the Map is only read when the
 * topic changes). @internal
 */
export class TopicCounterSet {
  private readonly all = new Map<string, TopicCounters>();
  readonly last = new LastKeyCache((topic: string) => this.of(topic));

  constructor(private readonly store: DedupStore) {}

  of(topic: string): TopicCounters {
    let counters = this.all.get(topic);
    if (counters === undefined) {
      counters = new TopicCounters({ topic, store: this.store.name });
      this.all.set(topic, counters);
    }
    return counters;
  }

  /** Adds the counts since the last scrape to the Prometheus counters. */
  flushTo(metrics: DedupMetrics): void {
    for (const counters of this.all.values()) counters.flushTo(metrics);
  }
}
