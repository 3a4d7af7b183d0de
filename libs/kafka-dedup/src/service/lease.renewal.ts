import type { ClaimResult, DedupKey, DedupTokenedKey } from '../interfaces/dedup-key.interface';
import type { DedupStore } from '../stores/dedup.store';
import type { StoreFailurePolicy } from './store-failure.policy';

/**
 * Claims held together (a batch's, chunk by chunk) until the group is dropped: nothing is done per
 * id while the batch runs. A renewal renews every claim of the group, also those already committed
 * or released since — a no-op, as every store renews a claim only while its token still holds it.
 * @internal
 */
export class LeaseGroup {
  /** Each chunk's keys and what their claim answered. */
  readonly chunks: Array<{ keys: readonly DedupKey[]; results: readonly ClaimResult[] }> = [];

  /** The claims of the group (at renewal time only). */
  claims(): DedupTokenedKey[] {
    const out: DedupTokenedKey[] = [];
    for (const { keys, results } of this.chunks) {
      for (let i = 0; i < results.length; i++) {
        const result = results[i];
        if (result.status === 'claimed') out.push({ key: keys[i], token: result.token });
      }
    }
    return out;
  }
}

/**
 * The claims this process holds while their handlers run, renewed every `leaseTtl / 3` (one
 * `renew` call for all) so a slow handler keeps its lease. The timer starts with the first claim
 * held and is unref'd. @internal
 */
export class LeaseRenewal {
  private readonly held = new Map<string, DedupTokenedKey>();
  private readonly groups = new Set<LeaseGroup>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly store: DedupStore,
    private readonly leaseTtl: number,
    private readonly failures: StoreFailurePolicy,
  ) {}

  /** Renews `token`'s claim of `key` until {@link unhold}. */
  hold(key: DedupKey, token: string): void {
    this.held.set(token, { key, token });
    this.start();
  }

  unhold(token: string): void {
    this.held.delete(token);
  }

  /** Renews the claims of `group` (as they are added to it) until {@link dropGroup}. */
  holdGroup(group: LeaseGroup): void {
    this.groups.add(group);
    this.start();
  }

  dropGroup(group: LeaseGroup): void {
    this.groups.delete(group);
  }

  private start(): void {
    if (this.timer === undefined) {
      this.timer = setInterval(
        () => void this.renewHeld(),
        Math.max(1, Math.floor(this.leaseTtl / 3)),
      );
      this.timer.unref();
    }
  }

  /** Stops renewing (shutdown). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async renewHeld(): Promise<void> {
    if (this.held.size === 0 && this.groups.size === 0) return;
    const claims = [...this.held.values()];
    for (const group of this.groups) for (const claim of group.claims()) claims.push(claim);
    if (claims.length === 0) return;
    try {
      await this.store.renew(claims, this.leaseTtl);
    } catch (error) {
      this.failures.failed('renew', 'none', error, false);
    }
  }
}
