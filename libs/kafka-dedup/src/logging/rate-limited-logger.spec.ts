import { RateLimitedLogger } from './rate-limited-logger';

describe('RateLimitedLogger', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('logs the first warning, then one summary per interval with the count held back', () => {
    const lines: string[] = [];
    const warnings = new RateLimitedLogger({ warn: (m) => lines.push(m) }, 1_000);
    for (let i = 0; i < 500; i++) warnings.warn('claim', `failed #${i}`);
    expect(lines).toEqual(['failed #0']);
    jest.advanceTimersByTime(1_000);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^failed #499 \(and 499 more like it in the last 1 s/);
    for (let i = 0; i < 10; i++) warnings.warn('claim', 'again');
    jest.advanceTimersByTime(1_000);
    expect(lines[2]).toMatch(/and 10 more/);
    jest.advanceTimersByTime(5_000); // quiet: nothing more, and the next warning is logged at once
    expect(lines).toHaveLength(3);
    warnings.warn('claim', 'after the outage');
    expect(lines[3]).toBe('after the outage');
  });

  it('limits each kind on its own, and flush() writes what is pending', () => {
    const lines: string[] = [];
    const warnings = new RateLimitedLogger({ warn: (m) => lines.push(m) }, 10_000);
    warnings.warn('claim', 'a');
    warnings.warn('commit', 'b');
    warnings.warn('claim', 'c');
    expect(lines).toEqual(['a', 'b']);
    warnings.flush();
    expect(lines[2]).toMatch(/^c \(and 1 more/);
  });
});
