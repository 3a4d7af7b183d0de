import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { DEDUP_METRICS, DEDUP_RESOLVED_OPTIONS } from './dedup.constants';
import type { ResolvedDedupOptions } from './dedup.options';
import { counter, gauge, histogram } from '@nest-resilience/common';
import { DedupStore } from './stores/dedup.store';
import { MemoryDedupStore } from './stores/memory/memory.store';
import { MemoryWindow } from './stores/memory/memory-window';
import { RedisDedupStore } from './stores/redis/redis.store';
import { AdaptiveTtl } from './window/adaptive-ttl';
import { DUPLICATE_AGE_BUCKETS, duplicateAgeSeconds } from './window/duplicate-age';
import type { WindowReport } from './window/window-health';

/** How often the memory store's early evictions are looked at (a counter comparison). */
const CHECK_EVERY_MS = 1_000;

/**
 * The dedup window: how far back the store remembers, measured and exported, and never shortened
 * in silence. Nothing here runs per message:
 * - `kafka_dedup_window_seconds{store}` and `kafka_dedup_window_reliable{store}` are computed when
 *   scraped (memory: see {@link MemoryWindow}; Redis and PostgreSQL: the TTL, reliable unless
 *   Redis may evict keys or its policy could not be read);
 * - `kafka_dedup_duplicate_age_seconds{store}` is observed only when a duplicate is caught (memory:
 *   `ttl - remaining` of the original's record; Redis: its `PTTL`, one command per duplicate;
 *   PostgreSQL: not measured);
 * - `kafka_dedup_early_evictions_total{store}` is read from the memory store's count on scrape,
 *   and a warning is logged within a second of the first early eviction, then at most once per
 *   `windowWarningIntervalMs` while they go on.
 * - with `adaptiveTtl`, the TTL follows the duplicate ages (see {@link AdaptiveTtl}), exported as
 *   `kafka_dedup_ttl_seconds{store}`.
 * The health indicator reports {@link report}.
 */
@Injectable()
export class DedupWindow implements OnApplicationShutdown {
  private readonly logger = new Logger('KafkaDedup');
  private readonly memory?: MemoryWindow;
  private readonly adaptive?: AdaptiveTtl;
  private timer?: NodeJS.Timeout;
  private adaptTimer?: NodeJS.Timeout;
  private lastWarning = -Infinity;
  private readonly ttlForWindow: () => number;

  constructor(
    @Inject(DEDUP_RESOLVED_OPTIONS) private readonly options: ResolvedDedupOptions,
    private readonly store: DedupStore,
  ) {
    const labels = { store: store.name };
    if (options.window.adaptiveTtl !== undefined && options.enabled) {
      this.adaptive = new AdaptiveTtl(options.window.adaptiveTtl, options.ttl);
      this.adaptTimer = setInterval(() => this.adapt(), options.window.adaptiveTtl.intervalMs);
      this.adaptTimer.unref();
    }
    const adaptive = this.adaptive;
    /** TTLs for ages (never under-estimated) and for the window (never over-estimated). */
    const ttlForAges = (): number => adaptive?.largestInForce() ?? options.ttl;
    const ttlForWindow = (): number => adaptive?.smallestInForce() ?? options.ttl;
    this.ttlForWindow = ttlForWindow;
    gauge({
      name: DEDUP_METRICS.ttlSeconds,
      help: 'TTL given to newly processed ids, in seconds (moves with adaptiveTtl)',
      labelNames: ['store'],
      collect() {
        this.set(labels, options.ttl / 1000);
      },
    });
    const window = this.seconds.bind(this);
    const reliable = this.reliable.bind(this);
    gauge({
      name: DEDUP_METRICS.windowSeconds,
      help: 'How far back the dedup store remembers ids now, in seconds (the ttl unless ids are evicted before it)',
      labelNames: ['store'],
      collect() {
        this.set(labels, window());
      },
    });
    gauge({
      name: DEDUP_METRICS.windowReliable,
      help: '1 when kafka_dedup_window_seconds is known to hold; 0 when Redis may evict dedup keys (or its policy could not be read)',
      labelNames: ['store'],
      collect() {
        this.set(labels, reliable() ? 1 : 0);
      },
    });
    const ages = histogram({
      name: DEDUP_METRICS.duplicateAge,
      help: 'Age of the original when a duplicate is caught, in seconds (size the ttl from its p99.9)',
      labelNames: ['store'],
      buckets: DUPLICATE_AGE_BUCKETS,
    }).labels(labels);
    const onDuplicate = (remainingMs: number): void => {
      const age = duplicateAgeSeconds(ttlForAges(), remainingMs);
      ages.observe(age);
      adaptive?.observe(age);
    };
    if (store instanceof RedisDedupStore) store.onDuplicate = onDuplicate;
    if (!(store instanceof MemoryDedupStore)) return;
    store.onDuplicate = onDuplicate;
    const memory = new MemoryWindow(store, ttlForWindow, Date.now, options.window.budgetBytes);
    this.memory = memory;
    let counted = 0;
    counter({
      name: DEDUP_METRICS.earlyEvictions,
      help: 'Ids evicted from the memory store before their ttl ran out (the window fell below the ttl)',
      labelNames: ['store'],
      collect() {
        const delta = store.earlyEvictions - counted;
        if (delta > 0) this.inc(labels, delta);
        counted = store.earlyEvictions;
      },
    });
    if (!options.enabled) return;
    this.timer = setInterval(() => this.checkEarlyEvictions(), CHECK_EVERY_MS);
    this.timer.unref();
  }

  /** How far back the store remembers now, in seconds (0 while deduplication is off). */
  seconds(): number {
    if (!this.options.enabled) return 0;
    return (this.memory?.windowMs() ?? this.ttlForWindow()) / 1000;
  }

  /**
   * Whether {@link seconds} is known to hold: false on Redis when its `maxmemory-policy` may evict
   * dedup keys (accepted with `redis.allowEvictingPolicy`) or could not be read.
   */
  reliable(): boolean {
    if (!(this.store instanceof RedisDedupStore)) return true;
    const policy = this.store.evictionPolicy;
    return policy !== undefined && policy.verified && !policy.evicting;
  }

  /** The window as the health indicator reports it. */
  report(): WindowReport {
    return {
      windowSeconds: this.seconds(),
      minWindowSeconds: this.options.enabled ? this.options.window.minWindowSeconds : 0,
      windowReliable: this.reliable(),
    };
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    clearInterval(this.adaptTimer);
    this.timer = undefined;
    this.adaptTimer = undefined;
  }

  /** Applies `adaptiveTtl` once: the next commits carry the new TTL (ids keep theirs). */
  private adapt(): void {
    const decision = this.adaptive?.adjust();
    if (decision === undefined) return;
    // The resolved options are shared: DedupService reads `ttl` at each commit.
    this.options.ttl = decision.to;
    const settings = this.options.window.adaptiveTtl!;
    this.logger.log(
      `adaptive ttl: ${decision.from / 1000} s -> ${decision.to / 1000} s (p${settings.quantile * 100} of ${decision.samples} duplicate ages <= ${decision.quantileSeconds} s, x ${settings.factor}, within [${settings.min / 1000} s, ${settings.max / 1000} s])`,
    );
  }

  private checkEarlyEvictions(): void {
    const now = Date.now();
    if (now - this.lastWarning < this.options.window.warningIntervalMs) return;
    const warning = this.memory?.earlyEvictionWarning();
    if (warning === undefined) return;
    this.lastWarning = now;
    this.logger.warn(warning);
  }
}
