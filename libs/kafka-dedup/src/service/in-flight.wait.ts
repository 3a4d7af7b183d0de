import type { ClaimResult, DedupKey } from '../interfaces/dedup-key.interface';
import type { DedupStore } from '../stores/dedup.store';
import type { AcquireContext } from './dedup.decision';
import type { StoreFailurePolicy } from './store-failure.policy';

const HEARTBEAT_EVERY_MS = 3_000;

/**
 * Waits for the outcome of a copy of an event in flight elsewhere: claims again with a growing
 * back-off (5 ms doubling to 100 ms), heartbeating Kafka every 3 s, bounded by `inFlightWait`.
 * @internal
 */
export class InFlightWait {
  constructor(
    private readonly store: DedupStore,
    private readonly options: { readonly leaseTtl: number; readonly inFlightWait: number },
    private readonly failures: StoreFailurePolicy,
  ) {}

  /** @returns the claim result, or null when the store failed and the policy says process. */
  async claim(key: DedupKey, topic: string): Promise<ClaimResult | null> {
    try {
      return await this.store.claim(key, this.options.leaseTtl);
    } catch (error) {
      return this.failures.failed('claim', topic, error);
    }
  }

  /**
   * Claims `key` until it is no longer in flight or `inFlightWait` has passed.
   * @returns the last claim result (still `in-flight` past the wait), or null as {@link claim}.
   */
  async waitForOutcome(key: DedupKey, context: AcquireContext): Promise<ClaimResult | null> {
    const started = Date.now();
    let lastBeat = started;
    let delay = 5;
    for (;;) {
      await sleep(delay);
      delay = Math.min(delay * 2, 100);
      const now = Date.now();
      if (context.heartbeat && now - lastBeat >= HEARTBEAT_EVERY_MS) {
        lastBeat = now;
        await context.heartbeat();
      }
      const result = await this.claim(key, context.topic ?? 'none');
      if (result === null || result.status !== 'in-flight') return result;
      if (now - started >= this.options.inFlightWait) return result;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
