import { ConnectionBreaker } from './connection-breaker';

describe('ConnectionBreaker', () => {
  it('ejects after the threshold, lets one probe through after the ejection, and closes on success', () => {
    let now = 0;
    const states: string[] = [];
    const breaker = new ConnectionBreaker(
      2,
      100,
      (s) => states.push(s),
      () => now,
    );
    expect(breaker.failure()).toBe(false);
    expect(breaker.failure()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    now = 100;
    expect(breaker.tryAcquire()).toBe(true); // the probe
    expect(breaker.tryAcquire()).toBe(false); // others wait for its outcome elsewhere
    breaker.success();
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });

  it('ejects again when the probe fails', () => {
    let now = 0;
    const breaker = new ConnectionBreaker(
      1,
      100,
      () => undefined,
      () => now,
    );
    breaker.failure();
    now = 150;
    breaker.tryAcquire();
    expect(breaker.failure()).toBe(true);
    expect(breaker.current).toBe('open');
    now = 200;
    expect(breaker.tryAcquire()).toBe(false); // a fresh ejection from t=150
  });
});
