import type { Logger } from '@nestjs/common';
import type { ResolvedSizing } from './discovery.options';
import type { DiscoveryMetrics } from './discovery.metrics';
import { targetAddress } from './endpoint-address';
import type { EndpointSet } from './endpoint-set';
import { decideResize } from './resize-decision';

/** Calls in flight are sampled this often (the counters exist already: no per-call work). */
const SAMPLE_MS = 100;

interface AddressLoad {
  sum: number;
  samples: number;
  peak: number;
  lowSince: number | undefined;
}

/**
 * Load-driven size: samples each address's calls in flight every 100 ms (the connections' own
 * counters), and every `intervalMs` lets {@link decideResize} grow or drain that address's
 * connections. Drained connections finish their calls first, so shrinking fails no call. @internal
 */
export class Resizer {
  private timer?: NodeJS.Timeout;
  private readonly load = new Map<string, AddressLoad>();
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
    for (const target of targets) {
      let inFlight = 0;
      for (const c of this.endpoints.connectionsOf(target)) inFlight += c.inFlight;
      let l = this.load.get(target);
      if (l === undefined) {
        l = { sum: 0, samples: 0, peak: 0, lowSince: undefined };
        this.load.set(target, l);
      }
      l.sum += inFlight;
      l.samples++;
      if (inFlight > l.peak) l.peak = inFlight;
    }
    const now = Date.now();
    if (now - this.lastDecision < this.sizing.intervalMs) return;
    this.lastDecision = now;
    for (const [target, l] of this.load) {
      if (!targets.includes(target)) {
        this.load.delete(target);
        continue;
      }
      const connections = this.endpoints.connectionsOf(target).length;
      const sample = { connections, meanInFlight: l.sum / (l.samples || 1), peakInFlight: l.peak };
      const decision = decideResize(sample, this.sizing, l.lowSince, now);
      l.lowSince = decision.lowSince;
      l.sum = 0;
      l.samples = 0;
      l.peak = 0;
      if (decision.delta === 0) continue;
      if (decision.delta > 0) this.endpoints.grow(target, decision.delta);
      else this.endpoints.shrink(target, -decision.delta);
      this.metrics.resized(decision.delta);
      this.logger.log(
        `${targetAddress(target) ?? target}: ${connections} → ${connections + decision.delta} connections ` +
          `(${sample.meanInFlight.toFixed(1)} calls in flight on average, peak ${sample.peakInFlight}, target ${this.sizing.targetInFlight} per connection)`,
      );
    }
  }
}
