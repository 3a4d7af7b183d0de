import type { DedupService } from '../dedup.service';
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
 * The claims of one batch, in chunks of {@link CHUNK} ids: while the handlers work through one
 * chunk, the store claims the next (one `claimMany` call each), so the store's time overlaps the
 * handlers' instead of adding to it. Copies of an id inside the batch are claimed once. @internal
 */
export class BatchClaims {
  private readonly keys: DedupKey[];
  /** Slot index of each key. */
  private readonly owners: number[];
  private next = 0;
  private pending?: { start: number; end: number; results: Promise<ClaimResult[] | null> };
  /** Slots below this index have their claim state applied. */
  private readyUntil: number;

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
    this.startNext();
  }

  /** Waits until the claim state of slot `index` (and every slot before it) is known. */
  async ready(index: number): Promise<void> {
    while (index >= this.readyUntil) await this.applyNext();
  }

  /** Waits for a claim still in flight and returns what it claimed (never applied: to release). */
  async drain(): Promise<DedupTokenedKey[]> {
    const pending = this.pending;
    this.pending = undefined;
    if (pending === undefined) return [];
    const results = await pending.results;
    const unused: DedupTokenedKey[] = [];
    if (results === null) return unused;
    for (let k = 0; k < results.length; k++) {
      const result = results[k];
      if (result.status === 'claimed')
        unused.push({ key: this.keys[pending.start + k], token: result.token });
    }
    return unused;
  }

  private startNext(): void {
    if (this.next >= this.keys.length) {
      this.pending = undefined;
      return;
    }
    const start = this.next;
    const end = Math.min(start + CHUNK, this.keys.length);
    this.next = end;
    this.pending = {
      start,
      end,
      results: this.service.claimBatch(this.keys.slice(start, end), this.topic),
    };
  }

  private async applyNext(): Promise<void> {
    const pending = this.pending;
    if (pending === undefined) {
      this.readyUntil = Infinity;
      return;
    }
    const results = await pending.results;
    this.startNext();
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
