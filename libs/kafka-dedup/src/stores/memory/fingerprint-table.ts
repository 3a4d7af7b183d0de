const STRIDE = 3; // hi, lo, expiry (ms after `base`)
const REBASE_AFTER_MS = 2 ** 31;

/**
 * A compact FIFO set of 64-bit fingerprints with expiry, in typed arrays (~20 bytes per entry at
 * 1M entries, against ~77 B for lru-cache and ~93 B for a Map of string keys).
 *
 * - `ring`: entries in insertion order (hi, lo, expiry as uint32 ms offsets). With one TTL for all
 *   entries, insertion order is expiry order, so expiry and eviction both pop the head: O(1) each,
 *   never a scan of the whole table.
 * - `index`: open addressing (linear probing, backward-shift deletion) from fingerprint to ring
 *   position + 1, sized to a power of two >= 2x the ring so probes stay short. Spare high bits of
 *   each index value carry a tag (top bits of the fingerprint's hi word), so most probes that do
 *   not match are rejected without touching the ring (one cache miss saved per new id).
 * The arrays are allocated for `maxEntries` at creation; past it the oldest entry is evicted.
 * @internal
 */
export class FingerprintTable {
  private ring: Uint32Array;
  private index: Uint32Array;
  private mask: number;
  /** Index values are `(pos + 1) | tag`: the low `posBits` hold the position, the rest hi's top bits. */
  private posMask: number;
  private tagMask: number;
  private capacity: number;
  private head = 0;
  private live = 0;
  private base: number;
  /** Entries evicted (not expired) to make room, since creation. */
  evictions = 0;
  /** Evicted entries whose TTL had not run out (the window fell below the TTL), since creation. */
  earlyEvictions = 0;
  /** Absolute expiry (ms) of the last early-evicted entry; 0 before any. */
  lastEarlyEvictedExpiry = 0;

  constructor(maxEntries: number, now = Date.now()) {
    this.base = now;
    // Sized for maxEntries up front (~20 B each): memory is known at bootstrap, and no rehash of a
    // large table ever blocks the event loop (growing 512K -> 1M entries blocked it for ~59 ms here).
    this.capacity = maxEntries;
    this.ring = new Uint32Array(this.capacity * STRIDE);
    this.index = new Uint32Array(indexSizeFor(this.capacity));
    this.mask = this.index.length - 1;
    this.posMask = posMaskFor(this.capacity);
    this.tagMask = ~this.posMask >>> 0;
  }

  /** Entries held, including expired ones not yet swept. */
  get size(): number {
    return this.live;
  }

  /** Bytes held by the typed arrays. */
  get byteLength(): number {
    return this.ring.byteLength + this.index.byteLength;
  }

  /** Whether the fingerprint is present and not expired at `now`. */
  has(hi: number, lo: number, now: number): boolean {
    const slot = this.find(hi, lo);
    return slot >= 0 && this.ring[this.posAt(slot) * STRIDE + 2] > this.offset(now);
  }

  /** Ms the fingerprint still has to live at `now` (0 when absent or expired); off the hot path. */
  remainingMs(hi: number, lo: number, now: number): number {
    const slot = this.find(hi, lo);
    if (slot < 0) return 0;
    return Math.max(0, this.ring[this.posAt(slot) * STRIDE + 2] - this.offset(now));
  }

  /**
   * Adds the fingerprint unless it is present and unexpired; returns whether it was added.
   * Pops up to two expired entries from the head first, so expiry keeps pace with inserts.
   */
  add(hi: number, lo: number, now: number, ttl: number): boolean {
    const nowOffset = this.offset(now);
    this.expireHead(nowOffset, 2);
    const slot = this.find(hi, lo);
    if (slot >= 0 && this.ring[this.posAt(slot) * STRIDE + 2] > nowOffset) return false;
    if (this.live === this.capacity) {
      const evictedExpiry = this.ring[this.head * STRIDE + 2];
      if (evictedExpiry > nowOffset) {
        this.earlyEvictions++;
        this.lastEarlyEvictedExpiry = this.base + evictedExpiry;
      }
      this.removeHead();
      this.evictions++;
      // The slot found above may have moved during the backward-shift deletion.
      return this.insert(hi, lo, nowOffset + ttl, this.find(hi, lo));
    }
    return this.insert(hi, lo, nowOffset + ttl, slot);
  }

  /**
   * A copy of the entries in insertion order, as (hi, lo, absolute expiry in ms) triples: expiries
   * as float64 (absolute times do not fit uint32), ids as uint32 pairs. For snapshots.
   */
  exportEntries(): { ids: Uint32Array; expiries: Float64Array } {
    const ids = new Uint32Array(this.live * 2);
    const expiries = new Float64Array(this.live);
    this.exportInto(ids, expiries);
    return { ids, expiries };
  }

  /** Writes the {@link size} entries into `ids` (2 per entry) and `expiries`, oldest first. */
  exportInto(ids: Uint32Array, expiries: Float64Array): void {
    const ring = this.ring;
    const base = this.base;
    let out = 0;
    // The live entries are one or two contiguous runs of the ring: no modulo per entry.
    const firstRun = Math.min(this.live, this.capacity - this.head);
    for (const [from, count] of [
      [this.head, firstRun],
      [0, this.live - firstRun],
    ]) {
      for (let at = from * STRIDE, end = (from + count) * STRIDE; at < end; at += STRIDE) {
        ids[out * 2] = ring[at];
        ids[out * 2 + 1] = ring[at + 1];
        expiries[out++] = base + ring[at + 2];
      }
    }
  }

  /**
   * Re-adds exported entries (oldest first) that are still unexpired at `now`; returns how many.
   * Entries must be in insertion order, as {@link exportEntries} gives them.
   */
  importEntries(ids: Uint32Array, expiries: Float64Array, now: number): number {
    let added = 0;
    for (let i = 0; i < expiries.length; i++) {
      const ttl = expiries[i] - now;
      if (ttl > 0 && this.add(ids[i * 2], ids[i * 2 + 1], now, Math.ceil(ttl))) added++;
    }
    return added;
  }

  /**
   * Removes up to `max` expired entries from the head (oldest first); returns how many.
   * O(removed): entries behind the first unexpired one are never looked at.
   */
  expire(now: number, max = Infinity): number {
    return this.expireHead(this.offset(now), max);
  }

  private expireHead(nowOffset: number, max: number): number {
    let removed = 0;
    while (this.live > 0 && removed < max && this.ring[this.head * STRIDE + 2] <= nowOffset) {
      this.removeHead();
      removed++;
    }
    return removed;
  }

  private insert(hi: number, lo: number, expiry: number, existingSlot: number): boolean {
    const pos = (this.head + this.live) % this.capacity;
    const at = pos * STRIDE;
    this.ring[at] = hi;
    this.ring[at + 1] = lo;
    this.ring[at + 2] = expiry;
    const value = ((pos + 1) | (hi & this.tagMask)) >>> 0;
    if (existingSlot >= 0) {
      // An expired copy is still indexed: point its slot at the new entry; the old ring entry is
      // then an orphan that removeHead() skips.
      this.index[existingSlot] = value;
    } else {
      let slot = lo & this.mask;
      while (this.index[slot] !== 0) slot = (slot + 1) & this.mask;
      this.index[slot] = value;
    }
    this.live++;
    return true;
  }

  private find(hi: number, lo: number): number {
    const ring = this.ring;
    const index = this.index;
    const mask = this.mask;
    const tagMask = this.tagMask;
    const tag = (hi & tagMask) >>> 0;
    let slot = lo & mask;
    let v: number;
    while ((v = index[slot]) !== 0) {
      if ((v & tagMask) >>> 0 === tag) {
        const at = ((v & this.posMask) - 1) * STRIDE;
        if (ring[at + 1] === lo && ring[at] === hi) return slot;
      }
      slot = (slot + 1) & mask;
    }
    return -1;
  }

  private posAt(slot: number): number {
    return (this.index[slot] & this.posMask) - 1;
  }

  private removeHead(): void {
    const pos = this.head;
    const mask = this.mask;
    const index = this.index;
    const posMask = this.posMask;
    let slot = this.ring[pos * STRIDE + 1] & mask;
    let v: number;
    while ((v = index[slot]) !== 0 && (v & posMask) !== pos + 1) slot = (slot + 1) & mask;
    if (v !== 0) this.deleteSlot(slot);
    this.head = (this.head + 1) % this.capacity;
    this.live--;
  }

  /** Backward-shift deletion: keeps every probe chain unbroken without tombstones. */
  private deleteSlot(slot: number): void {
    const index = this.index;
    const ring = this.ring;
    const mask = this.mask;
    let hole = slot;
    let j = slot;
    for (;;) {
      j = (j + 1) & mask;
      const v = index[j];
      if (v === 0) break;
      const home = ring[((v & this.posMask) - 1) * STRIDE + 1] & mask;
      // The entry at j may move into the hole unless its home lies cyclically in (hole, j].
      const staysPut = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (staysPut) continue;
      index[hole] = v;
      hole = j;
    }
    index[hole] = 0;
  }

  /** Expiries are uint32 ms offsets from `base`; past 2^31 ms (~24.8 days) they are shifted down. */
  private offset(now: number): number {
    let offset = now - this.base;
    if (offset >= REBASE_AFTER_MS) {
      this.rebase(now);
      offset = now - this.base;
    }
    return offset < 0 ? 0 : offset;
  }

  private rebase(now: number): void {
    const shift = now - this.base - 1;
    for (let i = 0; i < this.live; i++) {
      const at = ((this.head + i) % this.capacity) * STRIDE + 2;
      this.ring[at] = Math.max(0, this.ring[at] - shift);
    }
    this.base += shift;
  }
}

/** Low bits that can hold any position + 1 of a ring of `capacity` entries. */
function posMaskFor(capacity: number): number {
  let bits = 1;
  while (2 ** bits <= capacity) bits++;
  return bits >= 32 ? 0xffffffff : 2 ** bits - 1;
}

function indexSizeFor(capacity: number): number {
  let size = 1;
  while (size < capacity * 2) size *= 2;
  return size;
}
