import { LatencyEwma } from '../stats/latency-ewma';
import { slowStartSeed } from './slow-start';

describe('slow start', () => {
  it('seeds a new address above the pool so that it decays to the pool median in slowStartMs', () => {
    const seed = slowStartSeed(4, 1_000, 2_000);
    expect(seed).toBeCloseTo(4 * Math.exp(0.5));
    const clock = { now: 0 };
    const ewma = new LatencyEwma(2_000, () => clock.now);
    ewma.seed(seed, 0);
    expect(ewma.estimate(0)).toBeGreaterThan(4);
    expect(ewma.estimate(1_000)).toBeCloseTo(4);
    expect(ewma.estimate(2_000)).toBeLessThan(4);
  });

  it('does nothing when off or when nothing is measured yet', () => {
    expect(slowStartSeed(4, 0, 2_000)).toBe(0);
    expect(slowStartSeed(0, 1_000, 2_000)).toBe(0);
  });

  it('stays finite however long the slow start is against decayMs', () => {
    expect(Number.isFinite(slowStartSeed(4, 60_000, 1))).toBe(true);
  });
});
