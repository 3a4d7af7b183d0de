import { MemoryDedupStore } from './memory.store';
import { MemoryWindow } from './memory-window';

const TTL = 3_600_000;

/** Inserts `count` new ids at `perSecond`, advancing the fake clock. */
function feed(
  store: MemoryDedupStore,
  clock: { now: number },
  from: number,
  count: number,
  perSecond: number,
): void {
  for (let i = 0; i < count; i++) {
    clock.now += 1000 / perSecond;
    store.markIfAbsent({ scope: 's', id: `e-${from + i}` }, TTL);
  }
}

describe('MemoryWindow (fake clock)', () => {
  it('is the ttl while nothing younger than the ttl was evicted', () => {
    const clock = { now: 1_000_000 };
    const store = new MemoryDedupStore(1_000, () => clock.now);
    const window = new MemoryWindow(
      store,
      () => TTL,
      () => clock.now,
    );
    feed(store, clock, 0, 1_000, 100);
    expect(window.windowMs()).toBe(TTL);
    expect(window.earlyEvictionWarning()).toBeUndefined();
  });

  it('reads capacity / rate while the table overflows, and warns once per call with the advice', () => {
    const clock = { now: 1_000_000 };
    const store = new MemoryDedupStore(1_000, () => clock.now);
    const window = new MemoryWindow(
      store,
      () => TTL,
      () => clock.now,
    );
    feed(store, clock, 0, 5_000, 100); // 1,000 entries at 100/s: a 10 s window
    expect(window.windowMs()).toBeCloseTo(10_000, -1);
    const warning = window.earlyEvictionWarning();
    expect(warning).toContain('the dedup window is 10 s, shorter than the ttl of 3600 s');
    expect(warning).toContain('4000 ids were evicted before their TTL to respect maxEntries 1000');
    expect(warning).toContain('~100 new ids/s');
    // 100/s for an hour: 360,000 ids.
    expect(warning).toContain('maxEntries: 360000');
    expect(window.earlyEvictionWarning()).toBeUndefined(); // nothing new since
    feed(store, clock, 5_000, 10, 100);
    expect(window.earlyEvictionWarning()).toContain('10 ids were evicted');
  });

  it('follows the rate: twice the rate halves the window', () => {
    const clock = { now: 0 };
    const store = new MemoryDedupStore(2_000, () => clock.now);
    const window = new MemoryWindow(
      store,
      () => TTL,
      () => clock.now,
    );
    feed(store, clock, 0, 6_000, 200);
    expect(window.windowMs()).toBeCloseTo(10_000, -1);
    feed(store, clock, 6_000, 6_000, 400);
    expect(window.windowMs()).toBeCloseTo(5_000, -1);
  });

  it('grows back to the ttl at one second per second once evictions stop', () => {
    const clock = { now: 0 };
    const ttl = 60_000;
    const store = new MemoryDedupStore(100, () => clock.now);
    const window = new MemoryWindow(
      store,
      () => ttl,
      () => clock.now,
    );
    for (let i = 0; i < 300; i++) {
      clock.now += 100;
      store.markIfAbsent({ scope: 's', id: `e-${i}` }, ttl);
    }
    expect(window.windowMs()).toBeCloseTo(10_000, -2);
    clock.now += 20_000;
    expect(window.windowMs()).toBeCloseTo(30_000, -2);
    clock.now += 60_000;
    expect(window.windowMs()).toBe(ttl);
  });

  it('does not count the eviction of an already expired id as early', () => {
    const clock = { now: 0 };
    const store = new MemoryDedupStore(10, () => clock.now);
    for (let i = 0; i < 10; i++) store.markIfAbsent({ scope: 's', id: `old-${i}` }, 1_000);
    clock.now = 5_000; // all expired, none swept
    for (let i = 0; i < 10; i++) store.markIfAbsent({ scope: 's', id: `new-${i}` }, 1_000);
    expect(store.earlyEvictions).toBe(0);
  });

  it('names maxMemory in the advice when the table was sized from a budget', () => {
    const clock = { now: 0 };
    const store = new MemoryDedupStore(1_000, () => clock.now);
    const window = new MemoryWindow(
      store,
      () => TTL,
      () => clock.now,
      32_000,
    );
    feed(store, clock, 0, 2_000, 100);
    expect(window.earlyEvictionWarning()).toMatch(
      /respect maxMemory 31.3 KiB \(1000 ids\).*maxMemory: '(\d+(\.\d)?) MiB' \(360000 ids\)/,
    );
  });
});
