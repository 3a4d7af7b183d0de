import { FingerprintTable } from './fingerprint-table';

describe('FingerprintTable', () => {
  it('remembers an added fingerprint until its TTL passes', () => {
    const table = new FingerprintTable(100, 0);
    expect(table.add(1, 2, 0, 1_000)).toBe(true);
    expect(table.has(1, 2, 999)).toBe(true);
    expect(table.add(1, 2, 500, 1_000)).toBe(false);
    expect(table.has(1, 2, 1_000)).toBe(false);
    expect(table.add(1, 2, 1_000, 1_000)).toBe(true);
    expect(table.has(1, 2, 1_500)).toBe(true);
  });

  it('tells apart fingerprints that share their low word (same index slot)', () => {
    const table = new FingerprintTable(100, 0);
    table.add(1, 7, 0, 1_000);
    expect(table.has(2, 7, 0)).toBe(false);
    table.add(2, 7, 0, 1_000);
    expect(table.has(1, 7, 0)).toBe(true);
    expect(table.has(2, 7, 0)).toBe(true);
  });

  it('evicts the oldest entry first past maxEntries, and counts it', () => {
    const table = new FingerprintTable(3, 0);
    for (let i = 1; i <= 4; i++) table.add(i, i, i, 1_000_000);
    expect(table.size).toBe(3);
    expect(table.evictions).toBe(1);
    expect(table.has(1, 1, 10)).toBe(false);
    expect([2, 3, 4].every((i) => table.has(i, i, 10))).toBe(true);
  });

  it('expires from the oldest end only, in bounded steps', () => {
    const table = new FingerprintTable(1_000, 0);
    for (let i = 0; i < 100; i++) table.add(i, i * 7919, i, 1_000);
    expect(table.expire(1_050, 10)).toBe(10);
    expect(table.expire(1_050)).toBe(41); // entries added at t=0..50 expire at t<=1050
    expect(table.size).toBe(49);
    expect(table.has(50, 50 * 7919, 1_050)).toBe(false);
    expect(table.has(51, 51 * 7919, 1_050)).toBe(true);
  });

  it('agrees with a reference Map through expiry, eviction and collisions', () => {
    const max = 5_000;
    const table = new FingerprintTable(max, 0);
    const reference = new Map<string, number>(); // key -> expiry
    const order: string[] = [];
    let seed = 42;
    const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let step = 0; step < 60_000; step++) {
      const now = step;
      const hi = rnd() % 300; // few distinct hi words force many shared slots
      const lo = rnd() % 9_000;
      const k = `${hi}:${lo}`;
      const expected = (reference.get(k) ?? -1) > now;
      expect(table.has(hi, lo, now)).toBe(expected);
      if (!expected) {
        table.add(hi, lo, now, 20_000);
        reference.set(k, now + 20_000);
        order.push(k);
        // mirror FIFO eviction of the reference: entries live in insertion order
        while (order.length > max) {
          const oldest = order.shift()!;
          if (order.indexOf(oldest) === -1) reference.delete(oldest);
        }
      }
    }
    expect(table.size).toBeLessThanOrEqual(max);
  });
});
