import { LastKeyCache } from './last-key.cache';

describe('LastKeyCache', () => {
  it('computes a key once while it repeats, and again after another key', () => {
    const computed: string[] = [];
    const cache = new LastKeyCache((topic: string) => {
      computed.push(topic);
      return { scope: `group/${topic}` };
    });

    const first = cache.get('orders');
    expect(cache.get('orders')).toBe(first);
    expect(cache.get('payments')).toEqual({ scope: 'group/payments' });
    expect(cache.get('orders')).toEqual(first);
    expect(computed).toEqual(['orders', 'payments', 'orders']);
  });

  it('remembers falsy values and keys', () => {
    let calls = 0;
    const cache = new LastKeyCache((key: string) => {
      calls++;
      return key.length;
    });

    expect(cache.get('')).toBe(0);
    expect(cache.get('')).toBe(0);
    expect(calls).toBe(1);
  });

  it('keeps the previous slot when compute throws', () => {
    const cache = new LastKeyCache((key: string) => {
      if (key === 'bad') throw new Error('no value');
      return key.toUpperCase();
    });

    expect(cache.get('a')).toBe('A');
    expect(() => cache.get('bad')).toThrow('no value');
    expect(cache.get('a')).toBe('A');
  });
});
