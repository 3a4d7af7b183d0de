import { combine } from './dns-lookup';

const ok = (value: string[]): PromiseSettledResult<string[]> => ({ status: 'fulfilled', value });
const err = (code: string): PromiseSettledResult<string[]> => ({
  status: 'rejected',
  reason: Object.assign(new Error(`query ${code}`), { code }),
});

describe('combine (A and AAAA answers)', () => {
  it('merges both families, sorted and deduplicated', () => {
    expect(combine(ok(['10.0.0.3', '10.0.0.2']), ok(['fd00::1']))).toEqual({
      result: 'ok',
      addresses: ['10.0.0.2', '10.0.0.3', 'fd00::1'],
    });
    expect(combine(ok(['10.0.0.2']), err('ENODATA')).result).toBe('ok');
  });

  it('classifies answers without addresses: NXDOMAIN, empty, timeout, other errors', () => {
    expect(combine(err('ENOTFOUND'), err('ENOTFOUND'))).toMatchObject({
      result: 'not_found',
      error: expect.stringContaining('ENOTFOUND'),
    });
    expect(combine(err('ENODATA'), err('ENODATA')).result).toBe('empty');
    expect(combine(ok([]), ok([])).result).toBe('empty');
    expect(combine(err('ETIMEOUT'), err('ETIMEOUT')).result).toBe('timeout');
    expect(combine(err('ECONNREFUSED'), err('ECONNREFUSED')).result).toBe('error');
  });
});
