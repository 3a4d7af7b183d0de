import { dedupOptionsFromEnv } from './dedup.env';
import { resolveDedupOptions } from './dedup.options';

describe('dedupOptionsFromEnv', () => {
  it('reads the Redis Cluster nodes and the memory snapshot path', () => {
    expect(
      dedupOptionsFromEnv({
        KAFKA_DEDUP_STORE: 'redis',
        KAFKA_DEDUP_REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7000',
      }),
    ).toEqual({
      store: 'redis',
      redis: { cluster: { nodes: ['10.0.0.1:7000', '10.0.0.2:7000'] } },
    });
    expect(dedupOptionsFromEnv({ KAFKA_DEDUP_SNAPSHOT_PATH: '/data/dedup.snapshot' })).toEqual({
      memory: { snapshotPath: '/data/dedup.snapshot' },
    });
  });

  it('reads the Redis layout (the steps of an upgrade as deployments of a variable), validated at bootstrap', () => {
    expect(
      dedupOptionsFromEnv({
        KAFKA_DEDUP_REDIS_URL: 'redis://a:6379',
        KAFKA_DEDUP_REDIS_LAYOUT: 'dual',
      }),
    ).toEqual({ redis: { url: 'redis://a:6379', layout: 'dual' } });
    expect(dedupOptionsFromEnv({ KAFKA_DEDUP_REDIS_LAYOUT: ' v2 ' })).toEqual({
      redis: { layout: 'v2' },
    });
    expect(() =>
      resolveDedupOptions({
        store: 'redis',
        ...dedupOptionsFromEnv({ KAFKA_DEDUP_REDIS_LAYOUT: 'v3' }),
      }),
    ).toThrow('"redis.layout"');
  });

  it('with base options, the variables override them field by field (the code keeps its url and prefix)', () => {
    const base = {
      store: 'redis' as const,
      ttl: 60_000,
      redis: { url: 'redis://redis:6379', keyPrefix: 'orders:' },
    };
    expect(dedupOptionsFromEnv({ KAFKA_DEDUP_REDIS_LAYOUT: 'dual' }, base)).toEqual({
      store: 'redis',
      ttl: 60_000,
      redis: { url: 'redis://redis:6379', keyPrefix: 'orders:', layout: 'dual' },
    });
    expect(
      dedupOptionsFromEnv(
        { KAFKA_DEDUP_REDIS_URL: 'redis://b:6379', KAFKA_DEDUP_TTL_SECONDS: '5' },
        base,
      ),
    ).toEqual({
      store: 'redis',
      ttl: 5_000,
      redis: { url: 'redis://b:6379', keyPrefix: 'orders:' },
    });
    expect(dedupOptionsFromEnv({}, base)).toEqual(base);
    // Spread instead, a lone layout variable replaces the code's whole redis object.
    expect({ ...base, ...dedupOptionsFromEnv({ KAFKA_DEDUP_REDIS_LAYOUT: 'v2' }) }.redis).toEqual({
      layout: 'v2',
    });
  });

  it('leaves contradictions to the bootstrap validation, which names them', () => {
    const options = dedupOptionsFromEnv({
      KAFKA_DEDUP_STORE: 'redis',
      KAFKA_DEDUP_REDIS_URL: 'redis://a:6379',
      KAFKA_DEDUP_REDIS_CLUSTER_NODES: 'b:7000',
    });
    expect(() => resolveDedupOptions(options)).toThrow('"redis.cluster"');
  });
});
