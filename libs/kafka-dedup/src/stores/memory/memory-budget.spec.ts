import { FingerprintTable } from './fingerprint-table';
import { entriesForBudget, tableBytesFor } from './memory-budget';

describe('memory budget ↔ entries of the fingerprint table', () => {
  it('computes exactly the bytes the table allocates', () => {
    for (const entries of [1, 2, 3, 1_000, 1_024, 1_025, 20_000, 1_000_000]) {
      expect(tableBytesFor(entries)).toBe(new FingerprintTable(entries, 0).byteLength);
    }
  });

  it('gives the most entries that fit a budget, and one more does not fit', () => {
    for (const budget of [1_024, 100_000, 20 * 2 ** 20, 64 * 2 ** 20, 2 ** 30, 2 * 2 ** 30]) {
      const entries = entriesForBudget(budget);
      expect(tableBytesFor(entries)).toBeLessThanOrEqual(budget);
      expect(tableBytesFor(entries + 1)).toBeGreaterThan(budget);
    }
  });

  it('matches the documented figures: 64 MiB ≈ 2.8M ids, 2 GiB ≈ 89M ids, 1M ids ≈ 20 MB', () => {
    expect(entriesForBudget(64 * 2 ** 20)).toBe(2_796_202);
    expect(entriesForBudget(2 * 2 ** 30)).toBe(89_478_485);
    expect(tableBytesFor(1_000_000)).toBe(20_388_608);
  });

  it('answers 0 for a budget too small for one entry', () => {
    expect(entriesForBudget(8)).toBe(0);
  });
});
