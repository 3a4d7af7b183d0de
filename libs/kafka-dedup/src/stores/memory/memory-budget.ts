/**
 * Turns a memory budget into a number of entries of the memory store's fingerprint table, and
 * back. The table's layout (see `fingerprint-table.ts`): a ring of 12 B per entry (hi, lo, expiry
 * as uint32) and an index of 4 B slots whose count is the power of two >= 2x the entries, so
 * 16–20 B per entry, ~20.4 B at the default 1M. `memory-budget.spec.ts` checks these formulas
 * against the table's real `byteLength`. The in-flight claims (a few per partition) and the
 * snapshot buffer (16 B per id while a snapshot is written) are not part of the budget.
 * @internal
 */

const RING_BYTES_PER_ENTRY = 12;
const INDEX_SLOT_BYTES = 4;

/** Bytes of the table's typed arrays for `entries` entries. @internal */
export function tableBytesFor(entries: number): number {
  return entries * RING_BYTES_PER_ENTRY + indexSlotsFor(entries) * INDEX_SLOT_BYTES;
}

/**
 * The most entries whose table fits in `bytes` (0 when not even one does). For each possible
 * index size (a power of two holding at most half as many entries), the ring gets what is left.
 * @internal
 */
export function entriesForBudget(bytes: number): number {
  let best = 0;
  for (let slots = 2; slots * INDEX_SLOT_BYTES < bytes; slots *= 2) {
    const byRing = Math.floor((bytes - slots * INDEX_SLOT_BYTES) / RING_BYTES_PER_ENTRY);
    const entries = Math.min(slots / 2, byRing);
    if (entries > best) best = entries;
  }
  return best;
}

function indexSlotsFor(entries: number): number {
  let slots = 1;
  while (slots < entries * 2) slots *= 2;
  return slots;
}
