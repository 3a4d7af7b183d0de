import { loadSlotFunction } from './redis-client';
import { bucketMs, GroupPrefixes, layoutParams } from './redis-layout';

describe('Redis layout v2 settings', () => {
  it('cuts a window into buckets of a power of two ms, at least a quarter of it', () => {
    expect(bucketMs(3_600_000)).toBe(1_048_576);
    expect(bucketMs(4_000)).toBe(1_024);
    expect(bucketMs(4_100)).toBe(2_048);
    expect(bucketMs(0)).toBe(1);
  });

  it('spreads the ids of a bucket over 32,768 shards, 2 per hash slot on a cluster', () => {
    expect(layoutParams('v2', 60_000, false).shards).toBe(32_768);
    expect(layoutParams('v2', 60_000, true).shards).toBe(2);
  });

  it('names the groups with one prefix on a standalone Redis, versioned and with the bucket length', () => {
    const groups = new GroupPrefixes('app:', 1_024);
    expect(groups.of('app:g/t:1')).toBe('app:v2:1024:');
    expect(groups.of(Buffer.from('app:g/t:2'))).toBe('app:v2:1024:');
  });

  it('on a cluster, puts the groups of a claim key in its own hash slot', () => {
    const slotOf = loadSlotFunction();
    const groups = new GroupPrefixes('app:', 1_024, slotOf);
    for (const key of [
      'app:g/t:1',
      'app:g/t:order-42',
      'app:g/t:{tagged}x',
      Buffer.from('app:b:\xff'),
    ]) {
      const prefix = groups.of(key);
      expect(prefix).toMatch(/^app:v2:\{[0-9a-z]+\}:1024:$/);
      expect(slotOf(`${prefix}3:1`)).toBe(slotOf(key));
    }
  });
});
