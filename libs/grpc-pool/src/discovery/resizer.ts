import type { Logger } from '@nestjs/common';
import type { ResolvedSizing } from '../options/discovery.options';
import type { DiscoveryMetrics } from './discovery.metrics';
import type { EndpointSet } from './endpoint-set';
import { decideResize } from './resize-decision';

/** Calls in flight are sampled this often (the counters exist already: no per-call work). */
const SAMPLE_MS = 100;

/**
 * Load-driven size: samples the pool's calls in flight every 100 ms (the connections' own
 * counters) and every `intervalMs` lets {@link decideResize} change the connections **per
 * address**, the same for every address. Sized per address separately, the picker (which balances
 * calls over connections) would feed the address that grew first and starve the others' growth,
 * and an address with more connections would get more than its share of the calls. Drained
 * connections finish their calls first, so shrinking fails no call. @internal
 */
export class Resizer {
  private timer?: NodeJS.Timeout;
  private sum = 0;
  private samples = 0;
  private peak = 0;
  private lowSince: number | undefined;
  private lastDecision = 0;

  constructor(
    private readonly sizing: ResolvedSizing,
    private readonly endpoints: EndpointSet,
    private readonly metrics: DiscoveryMetrics,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.timer) return;
    this.lastDecision = Date.now();
    this.timer = setInterval(() => this.tick(), SAMPLE_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const targets = this.endpoints.targets();
    if (targets.length === 0) return;
    let inFlight = 0;
    for (const target of targets)
      for (const c of this.endpoints.connectionsOf(target)) inFlight += c.inFlight;
    this.sum += inFlight;
    this.samples++;
    if (inFlight > this.peak) this.peak = inFlight;
    const now = Date.now();
    if (now - this.lastDecision < this.sizing.intervalMs) return;
    this.lastDecision = now;
    const n = this.endpoints.perAddress;
    const sample = {
      connections: n,
      meanInFlight: this.sum / this.samples / targets.length,
      peakInFlight: this.peak / targets.length,
    };
    this.sum = 0;
    this.samples = 0;
    this.peak = 0;
    const decision = decideResize(sample, this.sizing, this.lowSince, now);
    this.lowSince = decision.lowSince;
    const next = n + decision.delta;
    this.endpoints.perAddress = next;
    let changed = 0;
    for (const target of targets) {
      const have = this.endpoints.connectionsOf(target).length;
      if (have < next) this.endpoints.grow(target, next - have);
      else if (have > next) this.endpoints.shrink(target, have - next);
      changed += next - have;
    }
    if (changed === 0) return;
    this.metrics.resized(changed);
    this.logger.log(
      `${n} → ${next} connections per address over ${targets.length} addresses ` +
        `(${sample.meanInFlight.toFixed(1)} calls in flight per address on average, peak ` +
        `${sample.peakInFlight.toFixed(1)}; target ${this.sizing.targetInFlight} per connection)`,
    );
  }
}
