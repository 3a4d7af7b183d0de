import { DedupEvictionPolicyError } from '../../errors/eviction-policy.error';
import type { RedisLike } from './redis-client';
import { checkRedisEvictionPolicy } from './redis-eviction-policy';

describe('checkRedisEvictionPolicy', () => {
  const node = (policy: string): RedisLike =>
    ({
      options: { host: '127.0.0.1', port: 6379 },
      config: () => Promise.resolve(['maxmemory-policy', policy, 'maxmemory', '1000000']),
    }) as unknown as RedisLike;
  const within = <T>(promise: Promise<T>): Promise<T> => promise;

  it('fails the start on a policy that can evict, unless allowed', async () => {
    const warn = jest.fn();
    await expect(
      checkRedisEvictionPolicy(node('allkeys-lru'), false, within, { warn }),
    ).rejects.toBeInstanceOf(DedupEvictionPolicyError);
    const report = await checkRedisEvictionPolicy(node('noeviction'), false, within, { warn });
    expect(report).toMatchObject({ verified: true, evicting: false });
    expect(warn).not.toHaveBeenCalled();
  });

  it('allowed, warns once; with a compact layout it says an evicted claim can make an event be skipped', async () => {
    const v1 = jest.fn();
    await checkRedisEvictionPolicy(node('volatile-lru'), true, within, { warn: v1 }, 'v1');
    expect(v1).toHaveBeenCalledTimes(1);
    expect(v1.mock.calls[0][0]).not.toContain('skipped');
    const v2 = jest.fn();
    const report = await checkRedisEvictionPolicy(
      node('volatile-lru'),
      true,
      within,
      { warn: v2 },
      'v2',
    );
    expect(report.evicting).toBe(true);
    expect(v2).toHaveBeenCalledTimes(1);
    expect(v2.mock.calls[0][0]).toContain("redis.layout 'v2'");
    expect(v2.mock.calls[0][0]).toContain('can be skipped');
  });
});
