import { Logger } from '@nestjs/common';
import { register } from 'prom-client';
import { DEDUP_METRICS } from './dedup.constants';
import { resolveDedupOptions } from './dedup.options';
import type { DedupModuleOptions } from './dedup.options';
import { MemoryDedupStore } from './stores/memory/memory.store';
import { DedupWindow } from './dedup.window';
import { withWindow } from './window/window-health';

async function values(
  name: string,
): Promise<Array<{ labels: Record<string, unknown>; value: number }>> {
  const metric = register.getSingleMetric(name);
  return metric ? ((await metric.get()).values as never) : [];
}

async function value(name: string, labels: Record<string, unknown> = {}): Promise<number> {
  return (await values(name))
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

function setup(options: DedupModuleOptions, maxEntries = 1_000) {
  const resolved = resolveDedupOptions(options);
  const store = new MemoryDedupStore(maxEntries);
  const window = new DedupWindow(resolved, store);
  return { store, window };
}

describe('DedupWindow (fake clock)', () => {
  let warn: jest.SpyInstance;
  let windows: DedupWindow[] = [];

  beforeEach(() => {
    register.clear();
    jest.useFakeTimers({ now: 1_700_000_000_000 });
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => {
    for (const window of windows) window.onApplicationShutdown();
    windows = [];
    jest.useRealTimers();
    warn.mockRestore();
  });

  function track<T extends { window: DedupWindow }>(made: T): T {
    windows.push(made.window);
    return made;
  }

  /** New ids at `perSecond`, the clock moving with them. */
  function feed(store: MemoryDedupStore, from: number, count: number, perSecond: number): void {
    for (let i = 0; i < count; i++) {
      jest.advanceTimersByTime(1000 / perSecond);
      store.markIfAbsent({ scope: 's', id: `e-${from + i}` }, 3_600_000);
    }
  }

  it('exports the ttl as the window, then capacity / rate once the table overflows (computed on scrape)', async () => {
    const { store } = track(setup({}));
    expect(await value(DEDUP_METRICS.windowSeconds, { store: 'memory' })).toBe(3_600);
    feed(store, 0, 3_000, 100);
    expect(await value(DEDUP_METRICS.windowSeconds, { store: 'memory' })).toBeCloseTo(10, 1);
    expect(await value(DEDUP_METRICS.windowReliable, { store: 'memory' })).toBe(1);
    expect(await value(DEDUP_METRICS.earlyEvictions, { store: 'memory' })).toBe(2_000);
  });

  it('puts the age of a caught duplicate in the right bucket, and nothing for new ids', async () => {
    const { store } = track(setup({}));
    const key = { scope: 's', id: 'original' };
    store.markIfAbsent(key, 3_600_000);
    jest.advanceTimersByTime(42_000);
    expect(store.peek(key)).toBe('duplicate');
    store.markIfAbsent({ scope: 's', id: 'another' }, 3_600_000);
    const buckets = await values(DEDUP_METRICS.duplicateAge);
    const bucket = (le: number) =>
      buckets.find((b) => b.labels.le === le && b.labels.store === 'memory')?.value;
    expect(bucket(30)).toBe(0);
    expect(bucket(60)).toBe(1);
    expect(await value(`${DEDUP_METRICS.duplicateAge}`)).toBeGreaterThan(0);
    const count = buckets.find((b) =>
      (b as { metricName?: string }).metricName?.endsWith('_count'),
    );
    expect(count?.value).toBe(1);
  });

  it('warns within a second of the first early eviction, then at most once per interval', () => {
    const { store } = track(setup({ windowWarningIntervalMs: 10_000 }, 100));
    feed(store, 0, 150, 1_000); // 50 early evictions
    jest.advanceTimersByTime(1_000);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toContain('the dedup window is');
    for (let second = 0; second < 8; second++) {
      feed(store, 1_000 + second * 100, 100, 1_000);
      jest.advanceTimersByTime(1_000);
    }
    expect(warn).toHaveBeenCalledTimes(1); // still within the 10 s interval
    jest.advanceTimersByTime(2_000);
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls[1][0]).toContain('800 ids were evicted');
    jest.advanceTimersByTime(30_000); // no evictions: no more lines
    expect(warn).toHaveBeenCalledTimes(2);
  });

  it('reports the window to the health indicator: degraded below minWindowSeconds', () => {
    const { store, window } = track(setup({ ttl: 60_000 }, 100));
    const up = withWindow('dedup', { dedup: { status: 'up', store: 'memory' } }, window.report());
    expect(up.dedup).toMatchObject({ status: 'up', windowSeconds: 60, minWindowSeconds: 60 });
    for (let i = 0; i < 200; i++) {
      jest.advanceTimersByTime(10);
      store.markIfAbsent({ scope: 's', id: `e-${i}` }, 60_000);
    }
    const down = withWindow('dedup', { dedup: { status: 'up', store: 'memory' } }, window.report());
    expect(down.dedup.status).toBe('degraded');
    expect(down.dedup.message).toMatch(/dedup window 1 s is below minWindowSeconds 60 s/);
  });

  it('with adaptiveTtl, moves the ttl new ids get from the duplicate ages, and exports it', async () => {
    const { store } = track(
      setup(
        { ttl: 600_000, adaptiveTtl: { min: 60_000, minSamples: 10, intervalMs: 60_000 } },
        10_000,
      ),
    );
    const resolved = (windows[0] as unknown as { options: { ttl: number } }).options;
    for (let i = 0; i < 100; i++) store.markIfAbsent({ scope: 's', id: `e-${i}` }, resolved.ttl);
    jest.advanceTimersByTime(3_000);
    for (let i = 0; i < 100; i++)
      expect(store.peek({ scope: 's', id: `e-${i}` })).toBe('duplicate');
    jest.advanceTimersByTime(57_000); // one interval: p99.9 <= 5 s x 4 -> 60 s floor, halved at most
    expect(resolved.ttl).toBe(300_000);
    expect(await value(DEDUP_METRICS.ttlSeconds, { store: 'memory' })).toBe(300);
    // ids stored under 600 s are still alive: ages use the largest ttl, the window the smallest
    expect(await value(DEDUP_METRICS.windowSeconds, { store: 'memory' })).toBe(300);
    expect(warn).not.toHaveBeenCalled();
  });

  it('reports a window of 0 and never degrades while deduplication is off', () => {
    const { window } = track(setup({ enabled: false }));
    expect(window.report()).toEqual({
      windowSeconds: 0,
      minWindowSeconds: 0,
      windowReliable: true,
    });
  });
});
