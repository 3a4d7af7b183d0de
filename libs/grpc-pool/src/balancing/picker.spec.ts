import { connectivityState } from '@grpc/grpc-js';
import { PeakEwma } from '../stats/peak-ewma';
import { PeakEwmaPicker } from './peak-ewma.picker';
import { RoundRobinPicker } from './round-robin.picker';
import type { PoolConnection } from '../connection/pool-connection';

/** A stand-in with what the pickers read: breaker state, latency estimate, calls in flight. */
function conn(
  latencyMs: number,
  inFlight = 0,
  closed = true,
  stalledMs = 0,
  connectivity = connectivityState.READY,
): PoolConnection {
  // every estimate observed at instant 0; the tests pass now = 0 to pick(), so that the picker does not
  // read performance.now() (in a jest worker older than a minute the estimates would have decayed to 0)
  const latency = new PeakEwma(10_000, () => 0);
  if (latencyMs > 0) latency.observe(latencyMs);
  return {
    breaker: { closed },
    latency,
    inFlight,
    stalledMs: () => stalledMs,
    connectivity,
  } as unknown as PoolConnection;
}

function counts(pick: () => PoolConnection | undefined, all: PoolConnection[], n = 3_000) {
  const seen = all.map(() => 0);
  for (let i = 0; i < n; i++) {
    const c = pick();
    if (c) seen[all.indexOf(c)]++;
  }
  return seen;
}

describe('PeakEwma', () => {
  it('jumps to a latency peak at once and blends lower latencies in', () => {
    let now = 0;
    const ewma = new PeakEwma(1_000, () => now);
    ewma.observe(10);
    ewma.observe(200);
    expect(ewma.estimate(now)).toBe(200);
    now = 1_000;
    ewma.observe(10);
    // weight e^-1 on the old estimate
    expect(ewma.estimate(now)).toBeCloseTo(200 * Math.exp(-1) + 10 * (1 - Math.exp(-1)), 5);
  });

  it('decays towards 0 without observations, so a once-slow connection is tried again', () => {
    let now = 0;
    const ewma = new PeakEwma(1_000, () => now);
    ewma.observe(200);
    expect(ewma.estimate(3_000)).toBeCloseTo(200 * Math.exp(-3), 5);
  });
});

describe('PeakEwmaPicker', () => {
  it('sends no new call to a slow connection while faster ones are free', () => {
    const all = [conn(1), conn(1), conn(200)];
    const picker = new PeakEwmaPicker();
    const seen = counts(() => picker.pick(all, undefined, true, 0), all);
    expect(seen[2]).toBe(0);
    expect(seen[0]).toBeGreaterThan(1_000);
    expect(seen[1]).toBeGreaterThan(1_000);
  });

  it('moves off a connection whose calls pile up unanswered (frozen)', () => {
    const all = [conn(2, 1), conn(2, 1), conn(2, 8)];
    const picker = new PeakEwmaPicker();
    expect(counts(() => picker.pick(all, undefined, true, 0), all)[2]).toBe(0);
  });

  it('moves off a connection with one call outstanding and no answer for long (frozen, no samples)', () => {
    const all = [conn(5, 3), conn(5, 3), conn(5, 1, true, 100)];
    const picker = new PeakEwmaPicker();
    expect(counts(() => picker.pick(all, undefined, true, 0), all)[2]).toBe(0);
  });

  it('prefers a connection far faster than the other even when it has more calls in flight', () => {
    // a client-bound load: 40 ms everywhere from queueing, the slow backend 200 ms more
    const all = [conn(40, 6), conn(40, 6), conn(240, 0)];
    const picker = new PeakEwmaPicker();
    expect(counts(() => picker.pick(all, undefined, true, 0), all)[2]).toBe(0);
  });

  it('takes the fast connection when both random candidates are slow (2 of 3 on a slow backend)', () => {
    const all = [conn(200, 8), conn(1, 0), conn(200, 8)];
    const picker = new PeakEwmaPicker();
    expect(counts(() => picker.pick(all, undefined, true, 0), all)).toEqual([0, 3_000, 0]);
  });

  it('spreads calls over equal connections', () => {
    const all = [conn(2), conn(2), conn(2)];
    const picker = new PeakEwmaPicker();
    for (const n of counts(() => picker.pick(all, undefined, true, 0), all)) {
      expect(n).toBeGreaterThan(700);
    }
  });

  it('skips ejected and already-tried connections, reusing a tried one only when allowed', () => {
    const all = [conn(1), conn(1, 0, false), conn(50)];
    const picker = new PeakEwmaPicker();
    const tried = { has: (c: PoolConnection) => c === all[0] };
    expect(counts(() => picker.pick(all, tried, true, 0), all)).toEqual([0, 0, 3_000]);
    const allTried = { has: () => true };
    expect(picker.pick(all, allTried, false, 0)).toBeUndefined();
    expect([all[0], all[2]]).toContain(picker.pick(all, allTried, true, 0));
    expect(picker.pick([conn(1, 0, false)], undefined, true, 0)).toBeUndefined();
  });

  it('sends a retry to a connected (READY) untried connection, not one that is reconnecting', () => {
    // Two of three backends died: the first attempt failed on one, the other's connection is
    // reconnecting (not yet ejected) and looks cheaper.
    const dead = conn(1, 0, true, 0, connectivityState.CONNECTING);
    const failed = conn(1, 0, true, 0, connectivityState.IDLE);
    const alive = conn(3, 2);
    const all = [failed, dead, alive];
    const tried = { has: (c: PoolConnection) => c === failed };
    for (const picker of [new PeakEwmaPicker(), new RoundRobinPicker()]) {
      expect(counts(() => picker.pick(all, tried, true, 0), all, 300)).toEqual([0, 0, 300]);
    }
    // No READY connection left: the untried one is still tried rather than none.
    const none = { has: (c: PoolConnection) => c === failed || c === alive };
    expect(new PeakEwmaPicker().pick(all, none, false, 0)).toBe(dead);
    expect(new RoundRobinPicker().pick(all, none, false, 0)).toBe(dead);
  });

  it('biases against a connection with calls outstanding and no answer yet', () => {
    const all = [conn(0, 2), conn(30, 2)];
    const picker = new PeakEwmaPicker();
    expect(counts(() => picker.pick(all, undefined, true, 0), all)).toEqual([0, 3_000]);
  });
});

describe('RoundRobinPicker', () => {
  it('rotates over the connections whatever their latency, skipping ejected ones', () => {
    const all = [conn(1), conn(1), conn(200)];
    const picker = new RoundRobinPicker();
    expect(counts(() => picker.pick(all, undefined, true, 0), all, 300)).toEqual([100, 100, 100]);
    const ejected = [conn(1), conn(1, 0, false), conn(200)];
    expect(counts(() => picker.pick(ejected, undefined, true, 0), ejected, 300)[1]).toBe(0);
  });
});
