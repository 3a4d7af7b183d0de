import { resolveDedupOptions } from '../dedup.options';
import type { DedupModuleOptions } from '../dedup.options';
import { AdaptiveTtl, type ResolvedAdaptiveTtl } from './adaptive-ttl';

const SETTINGS: ResolvedAdaptiveTtl = {
  min: 60_000,
  max: 3_600_000,
  quantile: 0.999,
  factor: 4,
  minSamples: 1_000,
  intervalMs: 60_000,
};

function observeMany(adaptive: AdaptiveTtl, count: number, ageSeconds: number): void {
  for (let i = 0; i < count; i++) adaptive.observe(ageSeconds);
}

describe('AdaptiveTtl (fake clock)', () => {
  it('does not move before minSamples ages were seen', () => {
    const adaptive = new AdaptiveTtl(SETTINGS, 3_600_000, () => 0);
    observeMany(adaptive, 999, 3);
    expect(adaptive.adjust()).toBeUndefined();
    expect(adaptive.value).toBe(3_600_000);
  });

  it('shrinks towards quantile x factor by at most half per interval, and never below min', () => {
    let now = 0;
    const adaptive = new AdaptiveTtl(SETTINGS, 3_600_000, () => now);
    observeMany(adaptive, 5_000, 3); // all in the (2, 5] bucket: p99.9 <= 5 s -> target 20 s -> min 60 s
    const steps: number[] = [];
    for (let i = 0; i < 8; i++) {
      now += 60_000;
      adaptive.adjust();
      steps.push(adaptive.value);
    }
    expect(steps).toEqual([1_800_000, 900_000, 450_000, 225_000, 112_500, 60_000, 60_000, 60_000]);
  });

  it('reads the quantile from the bucket upper bound, so a long tail keeps the TTL long', () => {
    const adaptive = new AdaptiveTtl({ ...SETTINGS, minSamples: 100 }, 600_000, () => 0);
    observeMany(adaptive, 9_980, 1);
    observeMany(adaptive, 20, 100); // 0.2% of copies come back after ~100 s: p99.9 <= 120 s
    expect(adaptive.adjust()).toMatchObject({ from: 600_000, to: 480_000, quantileSeconds: 120 });
  });

  it('grows at once when copies come back later, up to max', () => {
    let now = 0;
    const adaptive = new AdaptiveTtl({ ...SETTINGS, minSamples: 10 }, 60_000, () => now);
    observeMany(adaptive, 100, 200); // p99.9 <= 300 s -> 1,200 s
    now += 60_000;
    expect(adaptive.adjust()).toMatchObject({ from: 60_000, to: 1_200_000 });
    observeMany(adaptive, 10_000, 100_000); // past the last bucket: max
    now += 60_000;
    expect(adaptive.adjust()?.to).toBe(3_600_000);
  });

  it('keeps the largest and smallest TTL a live id may carry until max has passed', () => {
    let now = 0;
    const adaptive = new AdaptiveTtl({ ...SETTINGS, minSamples: 10 }, 600_000, () => now);
    observeMany(adaptive, 100, 1);
    now += 60_000;
    adaptive.adjust(); // 600 s -> 300 s
    expect(adaptive.value).toBe(300_000);
    expect(adaptive.largestInForce()).toBe(600_000);
    expect(adaptive.smallestInForce()).toBe(300_000);
    now += 3_600_000; // every id stored under 600 s has expired
    expect(adaptive.largestInForce()).toBe(300_000);
  });
});

describe('adaptiveTtl options', () => {
  it.each([
    [{ adaptiveTtl: {} }, /"adaptiveTtl.min" = undefined: required/],
    [{ adaptiveTtl: { min: 10 } }, /"adaptiveTtl.min" = 10: expected an integer between 1000/],
    [
      { ttl: 60_000, adaptiveTtl: { min: 120_000, max: 600_000 } },
      /"ttl" = 60000: with adaptiveTtl, the starting ttl must lie within/,
    ],
    [{ adaptiveTtl: { min: 60_000, quantile: 1 } }, /"adaptiveTtl.quantile" = 1/],
    [{ adaptiveTtl: { min: 60_000, factor: 0.5 } }, /"adaptiveTtl.factor" = 0.5/],
    [{ adaptiveTtl: { min: 60_000, every: 1 } }, /"adaptiveTtl.every".*unknown option/],
    [
      { adaptiveTtl: { min: 60_000 }, minWindowSeconds: 120 },
      /"minWindowSeconds" = 120: expected at most adaptiveTtl.min \(60 s\)/,
    ],
  ])('fails on %j naming the option and the value', (options, message) => {
    expect(() => resolveDedupOptions(options as DedupModuleOptions)).toThrow(message);
  });

  it('defaults max to the ttl and minWindowSeconds to min; ttl: 0 stays a rollback knob', () => {
    const resolved = resolveDedupOptions({ ttl: 600_000, adaptiveTtl: { min: 60_000 } });
    expect(resolved.window.adaptiveTtl).toEqual({ ...SETTINGS, max: 600_000 });
    expect(resolved.window.minWindowSeconds).toBe(60);
    expect(
      resolveDedupOptions({ ttl: 0, adaptiveTtl: { min: 60_000 } }).window.adaptiveTtl,
    ).toBeUndefined();
  });
});
