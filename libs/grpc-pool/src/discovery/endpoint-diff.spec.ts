import { addressTarget, targetAddress } from './endpoint-address';
import { diffEndpoints } from './endpoint-diff';

describe('diffEndpoints', () => {
  it('splits a new answer into added, removed and kept addresses', () => {
    expect(diffEndpoints(['a', 'b', 'c'], ['c', 'd', 'b'])).toEqual({
      added: ['d'],
      removed: ['a'],
      kept: ['c', 'b'],
    });
  });

  it('sees no change in a reordered answer, and ignores duplicates', () => {
    expect(diffEndpoints(['a', 'b'], ['b', 'a', 'a'])).toEqual({
      added: [],
      removed: [],
      kept: ['b', 'a'],
    });
  });

  it('replaces a whole set (a rolling replacement seen at once)', () => {
    expect(diffEndpoints(['a', 'b'], ['c'])).toEqual({
      added: ['c'],
      removed: ['a', 'b'],
      kept: [],
    });
  });
});

describe('endpoint addresses', () => {
  it('dials ipv4:/ipv6: targets and shows them as ip:port', () => {
    expect(addressTarget('10.0.0.7', 50061)).toBe('ipv4:10.0.0.7:50061');
    expect(addressTarget('fd00::7', 50061)).toBe('ipv6:[fd00::7]:50061');
    expect(targetAddress('ipv4:10.0.0.7:50061')).toBe('10.0.0.7:50061');
    expect(targetAddress('ipv6:[fd00::7]:50061')).toBe('[fd00::7]:50061');
    expect(targetAddress('127.0.0.1:50051')).toBe('127.0.0.1:50051');
    expect(targetAddress('users:50051')).toBeNull();
    expect(targetAddress('dns:///users:50051')).toBeNull();
  });
});
