import { connectivityState } from '@grpc/grpc-js';
import { LatencyEwma } from '../stats/latency-ewma';
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
  const latency = new LatencyEwma(10_000, () => 0);
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

/** A connection of {@link simulate}: what the picker reads, kept as PoolConnection keeps it. */
class SimConnection {
  readonly breaker = { closed: true };
  readonly connectivity = connectivityState.READY;
  readonly latency: LatencyEwma;
  inFlight = 0;
  calls = 0;
  private progressAt = 0;

  constructor(
    private readonly clock: { now: number; lastAnswerAt: number },
    decayMs: number,
  ) {
    this.latency = new LatencyEwma(decayMs, () => clock.now);
  }

  begin(): void {
    if (this.inFlight++ === 0) this.progressAt = this.clock.now;
    this.calls++;
  }

  answered(latencyMs: number): void {
    this.inFlight--;
    this.progressAt = this.clock.now;
    this.clock.lastAnswerAt = this.clock.now;
    this.latency.observe(latencyMs, this.clock.now);
  }

  stalledMs(): number {
    return this.inFlight > 0 && this.clock.lastAnswerAt > this.progressAt
      ? this.clock.lastAnswerAt - this.progressAt
      : 0;
  }
}

/**
 * Closed-loop callers on a fake clock: each call picks a connection, is answered after
 * `latencyOf(index, now, random)` ms and its caller calls again. `setup` may prime the connections.
 * Returns the calls each connection got within [fromMs, durationMs), and the most calls any one
 * had in flight at a pick.
 */
function simulate(opts: {
  connections: number;
  callers: number;
  durationMs: number;
  latencyOf: (index: number, now: number, random: () => number) => number;
  fromMs?: number;
  streamLimit?: number;
  setup?: (all: SimConnection[]) => void;
}): { calls: number[]; maxInFlight: number } {
  let seed = 42;
  const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  const clock = { now: 0, lastAnswerAt: 0 };
  const all = Array.from({ length: opts.connections }, () => new SimConnection(clock, 250));
  opts.setup?.(all);
  const picker = new PeakEwmaPicker(random, opts.streamLimit);
  const pool = all as unknown as PoolConnection[];
  // pending answers: [at, connection index, latency], kept sorted by time
  const pending: [number, number, number][] = [];
  const from = opts.fromMs ?? 0;
  const calls = all.map(() => 0);
  let maxInFlight = 0;
  const start = (): void => {
    const c = picker.pick(pool, undefined, true, clock.now) as unknown as SimConnection;
    const i = all.indexOf(c);
    c.begin();
    maxInFlight = Math.max(maxInFlight, c.inFlight);
    if (clock.now >= from) calls[i]++;
    const latency = opts.latencyOf(i, clock.now, random);
    const at = clock.now + latency;
    let k = pending.length;
    while (k > 0 && pending[k - 1][0] > at) k--;
    pending.splice(k, 0, [at, i, latency]);
  };
  for (let i = 0; i < opts.callers; i++) start();
  while (pending.length > 0 && pending[0][0] < opts.durationMs) {
    const [at, i, latency] = pending.shift()!;
    clock.now = at;
    all[i].answered(latency);
    start();
  }
  return { calls, maxInFlight };
}

const within = (calls: number[], bound: number): boolean => {
  const fair = calls.reduce((a, b) => a + b, 0) / calls.length;
  return calls.every((n) => Math.abs(n / fair - 1) <= bound);
};

describe('LatencyEwma', () => {
  it('takes the first latency as is and blends later ones in, by the time since the previous one', () => {
    let now = 0;
    const ewma = new LatencyEwma(1_000, () => now);
    ewma.observe(200);
    expect(ewma.estimate(now)).toBe(200);
    now = 1_000;
    ewma.observe(10);
    // weight e^-1 on the old estimate
    expect(ewma.estimate(now)).toBeCloseTo(200 * Math.exp(-1) + 10 * (1 - Math.exp(-1)), 5);
  });

  it('moves by a tenth for one slow answer among many (no peak), all the way for a lasting one', () => {
    const ewma = new LatencyEwma(2_000, () => 0);
    for (let i = 0; i < 50; i++) ewma.observe(2, 0);
    ewma.observe(200, 0);
    expect(ewma.estimate(0)).toBeCloseTo(2 * 0.9 + 200 * 0.1, 5);
    for (let i = 0; i < 50; i++) ewma.observe(200, 0);
    expect(ewma.estimate(0)).toBeGreaterThan(199);
  });

  it('decays towards 0 without observations, so a once-slow connection is tried again', () => {
    let now = 0;
    const ewma = new LatencyEwma(1_000, () => now);
    ewma.observe(200);
    expect(ewma.estimate(3_000)).toBeCloseTo(200 * Math.exp(-3), 5);
  });

  it('keeps a slow-start handicap apart from the measured latencies, decaying with time', () => {
    const ewma = new LatencyEwma(1_000, () => 0);
    ewma.observe(2, 0);
    ewma.seed(20, 0);
    expect(ewma.estimate(0)).toBe(20);
    expect(ewma.estimate(1_000)).toBeCloseTo(20 * Math.exp(-1), 5);
    ewma.observe(2, 1_000); // answers do not lower the handicap
    expect(ewma.estimate(1_000)).toBeCloseTo(20 * Math.exp(-1), 5);
    ewma.observe(2, 6_000); // the handicap is gone after 5 decayMs: the average again
    expect(ewma.estimate(6_000)).toBeCloseTo(2, 5);
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

  it('gives a clearly slower connection no call while it has one in flight (client-bound load)', () => {
    // 40 ms everywhere from the client's own queueing, the slow backend 200 ms more: by cost it
    // may take one call at a time (240 x 1 < 40 x 7), never a second one.
    const all = [conn(40, 6), conn(40, 6), conn(240, 1)];
    const picker = new PeakEwmaPicker();
    expect(counts(() => picker.pick(all, undefined, true, 0), all)[2]).toBe(0);
  });

  it('takes the fast connection when 2 of 3 connections reach a slow backend', () => {
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

describe('PeakEwmaPicker on a fake clock (closed-loop callers)', () => {
  it('gives equal backends equal shares despite noise and rare slow answers', () => {
    // 5 backends, 2 ms ± 50%, one answer in 100 a 50 ms outlier (the client's own GC or scheduling)
    const { calls } = simulate({
      connections: 5,
      callers: 16,
      durationMs: 10_000,
      latencyOf: (_, __, random) => (random() < 0.01 ? 50 : 1 + 2 * random()),
    });
    expect(within(calls, 0.2)).toBe(true); // bench:discovery's spread target
  });

  it('gives a connection whose estimate is a stale peak its share back within a second', () => {
    const { calls } = simulate({
      connections: 5,
      callers: 16,
      durationMs: 2_000,
      fromMs: 1_000,
      latencyOf: () => 2,
      // connection 0 last answered in 300 ms (a cold pod's first call, a passing stall)
      setup: (all) => all[0].latency.observe(300, 0),
    });
    expect(within(calls, 0.2)).toBe(true);
  });

  it('sends a backend 200 ms slower than the others almost no call', () => {
    const { calls } = simulate({
      connections: 3,
      callers: 16,
      durationMs: 10_000,
      latencyOf: (i) => (i === 2 ? 202 : 2),
    });
    const total = calls.reduce((a, b) => a + b, 0);
    expect(calls[2] / total).toBeLessThan(0.001);
  });

  it('keeps each connection within the peer stream limit when there is room (load-driven size)', () => {
    // 3 backends x 6 connections, 96 callers, 100 ms handlers, 8 streams per connection
    const { calls, maxInFlight } = simulate({
      connections: 18,
      callers: 96,
      durationMs: 5_000,
      streamLimit: 8,
      latencyOf: (_, __, random) => 100 + 10 * random(),
      // one connection looks 10x cheaper (its estimate lags): by cost alone it would take ~60 calls
      setup: (all) => all.forEach((c, i) => c.latency.observe(i === 0 ? 10 : 100, 0)),
    });
    expect(maxInFlight).toBeLessThanOrEqual(8);
    expect(within(calls, 0.2)).toBe(true);
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
