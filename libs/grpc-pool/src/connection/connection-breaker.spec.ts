import type { BreakerSettings } from '../options/grpc-pool.options';
import { ConnectionBreaker } from './connection-breaker';

const settings: BreakerSettings = {
  failureThreshold: 2,
  timeoutThreshold: 3,
  ejectionMs: 100,
  failureRate: { threshold: 0.5, minRequests: 10, windowMs: 1_000 },
};

function breaker(overrides: Partial<BreakerSettings> = {}) {
  const clock = { now: 0 };
  const events: string[] = [];
  const b = new ConnectionBreaker(
    { ...settings, ...overrides },
    (state, reason) => events.push(reason ? `${state}:${reason}` : state),
    () => clock.now,
  );
  return { b, clock, events };
}

describe('ConnectionBreaker', () => {
  it('ejects after consecutive UNAVAILABLE, and only a probe with an answer closes it', () => {
    const { b, clock, events } = breaker();
    expect(b.unavailableFailure()).toBeUndefined();
    expect(b.unavailableFailure()).toBe('unavailable');
    expect(b.closed).toBe(false);
    expect(b.startProbe()).toBe(false); // still inside the ejection
    clock.now = 100;
    expect(b.startProbe()).toBe(true);
    expect(b.current).toBe('half-open');
    b.probeResult(true);
    expect(events).toEqual(['open:unavailable', 'half-open', 'closed']);
  });

  it('keeps the connection ejected when the probe gets no answer, for a fresh ejection period', () => {
    const { b, clock } = breaker();
    b.eject('health_check');
    clock.now = 150;
    expect(b.startProbe()).toBe(true);
    b.probeResult(false);
    expect(b.current).toBe('open');
    clock.now = 200;
    expect(b.startProbe()).toBe(false);
    expect(b.msUntilProbe).toBe(50);
  });

  it('is never re-closed by an attempt: answers on an ejected connection do not close it', () => {
    const { b } = breaker();
    expect(b.eject('health_check')).toBe('health_check');
    b.answered();
    b.answered();
    expect(b.current).toBe('open');
    expect(b.eject('timeout')).toBeUndefined(); // already open: counted once
  });

  it('ejects after consecutive timeouts; an answer in between resets the count', () => {
    const { b } = breaker({ failureRate: false });
    b.timeoutFailure();
    b.timeoutFailure();
    b.answered();
    b.timeoutFailure();
    b.timeoutFailure();
    expect(b.closed).toBe(true);
    expect(b.timeoutFailure()).toBe('timeout');
  });

  it('ejects on the failure rate over the window once it saw enough attempts', () => {
    const { b, clock } = breaker({ timeoutThreshold: 100, failureThreshold: 100 });
    for (let i = 0; i < 4; i++) {
      b.answered();
      expect(b.timeoutFailure()).toBeUndefined();
      clock.now += 10;
    }
    b.answered();
    // 5 failures of 10 attempts: 50%
    expect(b.timeoutFailure()).toBe('failure_rate');
    expect(b.current).toBe('open');
  });

  it('forgets failures older than the window', () => {
    const { b, clock } = breaker({ timeoutThreshold: 100, failureThreshold: 100 });
    for (let i = 0; i < 4; i++) {
      b.answered();
      b.timeoutFailure();
    }
    clock.now = 2_000; // the window slid past them
    for (let i = 0; i < 9; i++) b.answered();
    expect(b.timeoutFailure()).toBeUndefined();
    expect(b.closed).toBe(true);
  });
});
