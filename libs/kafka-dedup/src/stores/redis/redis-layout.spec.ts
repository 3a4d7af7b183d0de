import { loadSlotFunction } from './redis-client';
import { bucketMs, GroupPrefixes, shardsPerPrefix } from './redis-layout';

describe('Redis layout v2 settings', () => {
  it('cuts time into buckets at least the window long, at most 25% longer, on a coarse grid', () => {
    expect(bucketMs(3_600_000)).toBe(3_670_016); // 2^21 x 1.75
    expect(bucketMs(3_500_000)).toBe(3_670_016); // replicas with close TTLs share buckets
    expect(bucketMs(60_000)).toBe(65_536);
    expect(bucketMs(65_537)).toBe(81_920); // 2^16 x 1.25
    expect(bucketMs(4_096)).toBe(4_096);
    expect(bucketMs(0)).toBe(1);
    for (const w of [1_000, 7_777, 600_000, 86_400_000]) {
      expect(bucketMs(w)).toBeGreaterThanOrEqual(w);
      expect(bucketMs(w)).toBeLessThanOrEqual(w * 1.25);
    }
  });

  it('spreads the ids of a bucket over 32,768 shards, 2 per hash slot on a cluster', () => {
    expect(shardsPerPrefix(false)).toBe(32_768);
    expect(shardsPerPrefix(true)).toBe(2);
  });

  it('names the groups with one prefix on a standalone Redis, versioned and with the bucket length', () => {
    const groups = new GroupPrefixes('app:', 1_024);
    expect(groups.of('app:g/t:1')).toBe('app:v2:1024:');
    expect(groups.of(Buffer.from('app:g/t:2'))).toBe('app:v2:1024:');
    // A bucket's groups: the bucket modulo 4 after the prefix (the shard follows in the scripts).
    expect(groups.ofBucket('app:g/t:1', 4_099)).toBe('app:v2:1024:3:');
    expect(groups.ofBucket('app:g/t:1', 4_100)).toBe('app:v2:1024:0:');
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
      expect(groups.ofBucket(key, 11)).toBe(`${prefix}3:`);
    }
  });
});
