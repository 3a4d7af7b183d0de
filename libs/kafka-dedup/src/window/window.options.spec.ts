import { resolveDedupOptions } from '../dedup.options';
import type { DedupModuleOptions } from '../dedup.options';

describe('window options', () => {
  it('sizes the memory table from maxMemory (bytes or a size string)', () => {
    const fromString = resolveDedupOptions({ maxMemory: '64MiB' });
    expect(fromString.maxEntries).toBe(2_796_202);
    expect(fromString.window.budgetBytes).toBe(64 * 2 ** 20);
    expect(resolveDedupOptions({ maxMemory: 64 * 2 ** 20 }).maxEntries).toBe(2_796_202);
    expect(resolveDedupOptions({}).maxEntries).toBe(1_000_000);
  });

  it.each([
    [{ maxMemory: 'lots' }, /"maxMemory" = "lots": expected a number of bytes or a size/],
    [{ maxMemory: 0 }, /"maxMemory" = 0: expected a number of bytes/],
    [{ maxMemory: '10B' }, /"maxMemory" = "10B": too small for one id/],
    [{ maxMemory: '1GiB', maxEntries: 10 }, /"maxMemory".*not both \(maxEntries = 10\)/],
    [{ maxMemory: '1GiB', store: 'redis' }, /"maxMemory".*only meaningful with store: "memory"/],
    [{ minWindowSeconds: -1 }, /"minWindowSeconds" = -1: expected a number of seconds >= 0/],
    [
      { ttl: 60_000, minWindowSeconds: 120 },
      /"minWindowSeconds" = 120: expected at most the ttl \(60 s\)/,
    ],
    [{ windowWarningIntervalMs: 0 }, /"windowWarningIntervalMs" = 0/],
  ])('fails on %j naming the option and the value', (options, message) => {
    expect(() => resolveDedupOptions(options as DedupModuleOptions)).toThrow(message);
  });

  it('defaults minWindowSeconds to the ttl the user gave, else to 300 s', () => {
    expect(resolveDedupOptions({ ttl: 600_000 }).window.minWindowSeconds).toBe(600);
    expect(resolveDedupOptions({}).window.minWindowSeconds).toBe(300);
    expect(resolveDedupOptions({ maxEntries: 10 }).window.minWindowSeconds).toBe(300);
    expect(resolveDedupOptions({ ttl: 0 }).window.minWindowSeconds).toBe(0);
    expect(resolveDedupOptions({ minWindowSeconds: 30 }).window.minWindowSeconds).toBe(30);
    expect(resolveDedupOptions({}).window.warningIntervalMs).toBe(60_000);
  });
});
