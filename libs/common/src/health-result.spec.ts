import { applyWhenDown, checkWhenDown, healthResult } from './health-result';

describe('health results', () => {
  it('reports a down entry as degraded only when whenDown says so', () => {
    const down = healthResult('auth', false, { message: 'no answer' });
    expect(applyWhenDown('auth', down, 'down')).toBe(down);
    expect(applyWhenDown('auth', down, 'degraded')).toEqual({
      auth: { status: 'degraded', message: 'no answer' },
    });
    const up = healthResult('auth', true, {});
    expect(applyWhenDown('auth', up, 'degraded')).toBe(up);
  });

  it("defaults whenDown to 'down' and names the owner and the value of a bad one", () => {
    expect(checkWhenDown('Indicator', undefined)).toBe('down');
    expect(checkWhenDown('Indicator', 'degraded')).toBe('degraded');
    expect(() => checkWhenDown('Indicator', 'warn')).toThrow(
      `Indicator: whenDown must be 'down' or 'degraded', got "warn"`,
    );
  });
});
