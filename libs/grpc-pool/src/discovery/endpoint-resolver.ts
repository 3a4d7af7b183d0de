import type { Logger } from '@nestjs/common';
import type { ResolvedDiscovery } from '../options/discovery.options';
import { GrpcPoolDiscoveryError } from './discovery.errors';
import type { DiscoveryMetrics } from './discovery.metrics';
import type { HostLookup, Resolution } from './dns-lookup';
import { addressTarget } from './endpoint-address';

/** A failed resolution is logged at most this often (each one is counted). */
const WARN_EVERY_MS = 60_000;
/** Bootstrap retries a name that resolves to nothing this often. */
const STARTUP_RETRY_MS = 250;

/**
 * Resolves the pool's name: once at bootstrap (waiting up to `startupTimeoutMs` for an address,
 * then failing naming the pool, the name and the resolver's error), every `refreshIntervalMs`
 * after, and early — at most every `minRefreshIntervalMs` — when a connection fails or is ejected.
 * An answer with addresses replaces the set; a failed lookup, NXDOMAIN or an empty answer keeps
 * the last known set (counted by result, logged at most once a minute): a DNS outage or a
 * half-applied change must not take every backend away from a client whose connections still
 * work. @internal
 */
export class EndpointResolver {
  private timer?: NodeJS.Timeout;
  private soon?: NodeJS.Timeout;
  private lastStart = -Infinity;
  private running?: Promise<void>;
  private lastWarn = -Infinity;
  private suppressed = 0;
  private stopped = false;

  constructor(
    private readonly pool: string,
    private readonly settings: ResolvedDiscovery,
    private readonly lookup: HostLookup,
    /** A non-empty answer: the targets to use (`ipv4:IP:port`). */
    private readonly onTargets: (targets: string[], initial: boolean) => void,
    private readonly metrics: DiscoveryMetrics,
    private readonly logger: Logger,
  ) {}

  private get name(): string {
    return `${this.settings.host}:${this.settings.port}`;
  }

  /** The first resolution: resolves once the name has an address, rejects after the bound. */
  async first(): Promise<void> {
    const started = Date.now();
    const deadline = started + this.settings.startupTimeoutMs;
    for (;;) {
      this.lastStart = performance.now();
      const r = await this.lookup.lookup(this.settings.host);
      this.metrics.resolution(r.result);
      if (r.result === 'ok') return this.onTargets(this.targetsOf(r), true);
      if (this.stopped || Date.now() + STARTUP_RETRY_MS > deadline)
        throw new GrpcPoolDiscoveryError(
          this.pool,
          this.name,
          r.error ?? r.result,
          Date.now() - started,
        );
      await new Promise((resolve) => setTimeout(resolve, STARTUP_RETRY_MS));
    }
  }

  /** Starts the periodic re-resolution (and resolves at once if {@link first} never ran). */
  start(): void {
    if (this.timer || this.stopped) return;
    if (this.lastStart === -Infinity) void this.resolve();
    this.timer = setInterval(() => void this.resolve(), this.settings.refreshIntervalMs);
    this.timer.unref();
  }

  /** Re-resolves as soon as `minRefreshIntervalMs` allows (a connection failed or was ejected). */
  resolveSoon(): void {
    if (this.stopped || this.soon !== undefined) return;
    const wait = this.lastStart + this.settings.minRefreshIntervalMs - performance.now();
    this.soon = setTimeout(
      () => {
        this.soon = undefined;
        void this.resolve();
      },
      Math.max(0, wait),
    );
    this.soon.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.soon);
    this.lookup.cancel();
  }

  /** One resolution (never two at once). */
  resolve(): Promise<void> {
    this.running ??= this.resolveOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async resolveOnce(): Promise<void> {
    if (this.stopped) return;
    this.lastStart = performance.now();
    const r = await this.lookup.lookup(this.settings.host);
    if (this.stopped) return;
    this.metrics.resolution(r.result);
    if (r.result === 'ok') {
      this.onTargets(this.targetsOf(r), false);
      return;
    }
    const now = performance.now();
    if (now - this.lastWarn < WARN_EVERY_MS) {
      this.suppressed++;
      return;
    }
    this.logger.warn(
      `resolving ${this.name} failed (${r.result}: ${r.error ?? ''}); keeping the last known addresses` +
        (this.suppressed > 0 ? ` (${this.suppressed} more failures since the last warning)` : ''),
    );
    this.lastWarn = now;
    this.suppressed = 0;
  }

  private targetsOf(r: Resolution): string[] {
    return r.addresses.map((ip) => addressTarget(ip, this.settings.port));
  }
}
