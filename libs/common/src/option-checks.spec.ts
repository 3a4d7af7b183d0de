import { describeValue } from './describe-value';
import { bool, int, list, rejectUnknownKeys, str, type Fail } from './option-checks';

const fail: Fail = (option, value, expected) => {
  throw new Error(`${option} = ${describeValue(value)}: ${expected}`);
};

describe('option checks', () => {
  it('give the default for an absent option and the value for a valid one', () => {
    expect(int(fail, 'size', undefined, 3, 1)).toBe(3);
    expect(int(fail, 'size', 5, 3, 1, 10)).toBe(5);
    expect(bool(fail, 'on', false, true)).toBe(false);
    expect(str(fail, 'name', 'a', 'b', true)).toBe('a');
    expect(list('x')).toEqual(['x']);
    expect(list(undefined)).toEqual([]);
  });

  it('name the option, the value and what was expected', () => {
    expect(() => int(fail, 'size', 1.5, 3, 1, 10)).toThrow(
      'size = 1.5: expected an integer from 1 to 10',
    );
    expect(() => int(fail, 'ttlMs', -1, 0, 0)).toThrow('ttlMs = -1: expected an integer from 0');
    expect(() => int(fail, 'ttlMs', '5', 0, 0, undefined, 'expected ms')).toThrow(
      'ttlMs = "5": expected ms',
    );
    expect(() => bool(fail, 'on', 'yes', true)).toThrow('on = "yes": expected true or false');
    expect(() => str(fail, 'name', ' ', 'x', true)).toThrow(
      'name = " ": expected a non-empty string',
    );
    expect(() => rejectUnknownKeys(fail, { sise: 3 }, new Set(['size']))).toThrow(
      'sise = 3: unknown option',
    );
  });

  it('describe a function, a cycle and a BigInt without throwing', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(describeValue(() => 1)).toBe('a function');
    expect(describeValue(cycle)).toBe('[object Object]');
    expect(describeValue(10n)).toBe('10');
    expect(describeValue(undefined)).toBe('undefined');
  });
});
