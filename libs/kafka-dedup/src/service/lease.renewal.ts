import type { DedupTokenedKey, DedupKey } from '../interfaces/dedup-key.interface';
import type { DedupStore } from '../stores/dedup.store';
import type { StoreFailurePolicy } from './store-failure.policy';

/**
 * The claims this process holds while their handlers run, renewed every `leaseTtl / 3` (one
 * `renew` call for all) so a slow handler keeps its lease. The timer starts with the first claim
 * held and is unref'd. @internal
 */
export class LeaseRenewal {
  private readonly held = new Map<string, DedupTokenedKey>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly store: DedupStore,
    private readonly leaseTtl: number,
    private readonly failures: StoreFailurePolicy,
  ) {}

  /** Renews `token`'s claim of `key` until {@link unhold}. */
  hold(key: DedupKey, token: string): void {
    this.held.set(token, { key, token });
    if (this.timer === undefined) {
      this.timer = setInterval(
        () => void this.renewHeld(),
        Math.max(1, Math.floor(this.leaseTtl / 3)),
      );
      this.timer.unref();
    }
  }

  unhold(token: string): void {
    this.held.delete(token);
  }

  /** Stops renewing (shutdown). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async renewHeld(): Promise<void> {
    if (this.held.size === 0) return;
    try {
      await this.store.renew([...this.held.values()], this.leaseTtl);
    } catch (error) {
      this.failures.failed('renew', 'none', error, false);
    }
  }
}
