import type { ResolvedSizing } from '../options/discovery.options';
import { decideResize } from './resize-decision';

const sizing: ResolvedSizing = {
  min: 1,
  max: 8,
  maxConcurrentStreams: 8,
  targetInFlight: 6,
  intervalMs: 1_000,
  shrinkAfterMs: 5_000,
  maxStep: 2,
};
const sample = (connections: number, meanInFlight: number, peakInFlight = meanInFlight) => ({
  connections,
  meanInFlight,
  peakInFlight,
});

describe('decideResize', () => {
  it('grows when calls in flight per connection pass the target, at most maxStep at once', () => {
    expect(decideResize(sample(1, 7), sizing, undefined, 0)).toEqual({
      delta: 1,
      lowSince: undefined,
    });
    expect(decideResize(sample(1, 32), sizing, undefined, 0).delta).toBe(2);
    expect(decideResize(sample(5, 32), sizing, undefined, 0).delta).toBe(1); // ceil(32/6) = 6
  });

  it('never grows past max', () => {
    expect(decideResize(sample(8, 200), sizing, undefined, 0).delta).toBe(0);
    expect(decideResize(sample(7, 200), sizing, undefined, 0).delta).toBe(1);
  });

  it('changes nothing between half the target and the target (hysteresis)', () => {
    expect(decideResize(sample(2, 10, 10), sizing, undefined, 0)).toEqual({
      delta: 0,
      lowSince: undefined,
    });
  });

  it('shrinks only after shrinkAfterMs of low load, to what the peak needs, maxStep at once', () => {
    const first = decideResize(sample(6, 1, 2), sizing, undefined, 1_000);
    expect(first).toEqual({ delta: 0, lowSince: 1_000 });
    expect(decideResize(sample(6, 1, 2), sizing, 1_000, 5_999).delta).toBe(0);
    expect(decideResize(sample(6, 1, 2), sizing, 1_000, 6_000)).toEqual({
      delta: -2,
      lowSince: 1_000,
    });
    expect(decideResize(sample(2, 0, 0), sizing, 1_000, 7_000).delta).toBe(-1); // down to min
    expect(decideResize(sample(1, 0, 0), sizing, 1_000, 8_000).delta).toBe(0);
  });

  it('restarts the low-load clock when a peak needs the connections again', () => {
    expect(decideResize(sample(4, 2, 12), sizing, 1_000, 9_000)).toEqual({
      delta: 0,
      lowSince: undefined,
    });
  });

  it('tops an address up to min', () => {
    expect(decideResize(sample(0, 0), { ...sizing, min: 3 }, undefined, 0).delta).toBe(2);
  });
});
