import type { DedupService } from '../dedup.service';
import type { LeaseGroup } from '../service/lease.renewal';
import type { ClaimResult, DedupKey, DedupTokenedKey } from '../interfaces/dedup-key.interface';

/** One message of a batch on its way to the handler. @internal */
export interface BatchSlot {
  /** Set when the batch claimed this message's id. */
  claim?: DedupTokenedKey;
  /** Index of the first copy of this id in the batch, when this is a later copy. */
  copyOf?: number;
  /** A duplicate: the handler is not called. */
  skip?: boolean;
  /** Marks the message's context as claimed by the batch. */
  preClaim(): void;
}

/**
 * Ids claimed per store call: the first chunk's claim is the only wait before the handlers run;
 * also how many processed ids the server commits at a time (a crash repeats at most that many).
 * @internal
 */
export const BATCH_CHUNK = 500;
const CHUNK = BATCH_CHUNK;
/**
 * Claims on their way at most: while the handlers work through one chunk, the next two are being
 * claimed, so a store that falls behind for a moment (it shares the cores) does not stall them.
 */
const AHEAD = 2;

interface PendingClaim {
  start: number;
  end: number;
  results: Promise<ClaimResult[] | null>;
}

/**
 * The claims of one batch, in chunks of {@link CHUNK} ids: while the handlers work through one
 * chunk, the store claims the next ones (one `claimMany` call each, {@link AHEAD} on their way),
 * so the store's time overlaps the handlers' instead of adding to it. Copies of an id inside the
 * batch are claimed once. @internal
 */
export class BatchClaims {
  private readonly keys: DedupKey[];
  /** Slot index of each key. */
  private readonly owners: number[];
  private next = 0;
  /** Claims on their way, oldest first. */
  private readonly pending: PendingClaim[] = [];
  /** Slots below this index have their claim state applied. */
  private readyUntil: number;
  /** The leases of the batch's claims, renewed together until {@link close}. */
  private readonly group: LeaseGroup;

  constructor(
    private readonly service: DedupService,
    private readonly topic: string,
    private readonly slots: readonly BatchSlot[],
    keys: DedupKey[],
    owners: number[],
  ) {
    this.keys = keys;
    this.owners = owners;
    this.readyUntil = owners.length > 0 ? owners[0] : Infinity;
    this.group = service.openLeaseGroup();
    this.fill();
  }

  /** Stops renewing the batch's claims: every one of them was committed or released. */
  close(): void {
    this.service.closeLeaseGroup(this.group);
  }

  /** Whether the claim state of slot `index` (and every slot before it) is known: no wait. */
  isReady(index: number): boolean {
    return index < this.readyUntil;
  }

  /** Waits until the claim state of slot `index` (and every slot before it) is known. */
  async ready(index: number): Promise<void> {
    while (index >= this.readyUntil) await this.applyNext();
  }

  /** Waits for the claims still in flight and returns what they claimed (never applied: to release). */
  async drain(): Promise<DedupTokenedKey[]> {
    const pending = this.pending.splice(0);
    this.next = this.keys.length; // nothing more is started
    const unused: DedupTokenedKey[] = [];
    for (const claim of pending) {
      // A claim that failed claimed nothing: the batch is ending anyway (a failure, a stop).
      const results = await claim.results.catch(() => null);
      if (results === null) continue;
      for (let k = 0; k < results.length; k++) {
        const result = results[k];
        if (result.status === 'claimed')
          unused.push({ key: this.keys[claim.start + k], token: result.token });
      }
    }
    return unused;
  }

  /** Starts claims until {@link AHEAD} are on their way or every key is. */
  private fill(): void {
    while (this.pending.length < AHEAD && this.next < this.keys.length) {
      const start = this.next;
      const end = Math.min(start + CHUNK, this.keys.length);
      this.next = end;
      const results = this.service.claimBatch(this.keys.slice(start, end), this.topic, this.group);
      // Awaited in order later (ready, drain); a rejection meanwhile is not an unhandled one.
      results.catch(() => undefined);
      this.pending.push({ start, end, results });
    }
  }

  private async applyNext(): Promise<void> {
    const pending = this.pending[0];
    if (pending === undefined) {
      this.readyUntil = Infinity;
      return;
    }
    const results = await pending.results;
    this.pending.shift();
    this.fill();
    this.readyUntil = pending.end < this.owners.length ? this.owners[pending.end] : Infinity;
    // null: the store failed under onStoreError 'process' — these take the per-message path.
    if (results === null) return;
    let claimed = 0;
    let duplicates = 0;
    for (let k = 0; k < results.length; k++) {
      const slot = this.slots[this.owners[pending.start + k]];
      const result = results[k];
      if (result.status === 'claimed') {
        slot.claim = { key: this.keys[pending.start + k], token: result.token };
        slot.preClaim();
        claimed++;
      } else if (result.status === 'duplicate') {
        slot.skip = true;
        duplicates++;
      }
      // 'in-flight' (another consumer has it): the handler's per-message path waits for it.
    }
    this.service.countBatch(this.topic, claimed, duplicates);
  }
}
