import type { DedupMetrics } from './dedup.metrics';

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
