import { DedupOptionsError } from '../../errors/dedup.errors';
import { validateRedisOptions } from './redis-options';

describe('validateRedisOptions', () => {
  it('accepts a URL, a cluster or a client, and the store knobs', () => {
    expect(validateRedisOptions(undefined)).toEqual({});
    expect(validateRedisOptions({ url: 'rediss://u:p@h:6380', ownerTtl: 3_000 })).toMatchObject({
      ownerTtl: 3_000,
    });
    expect(
      validateRedisOptions({ cluster: { nodes: ['127.0.0.1:7000', { host: 'h', port: 7001 }] } }),
    ).toBeDefined();
    expect(validateRedisOptions({ client: { defineCommand: () => undefined } })).toBeDefined();
    expect(validateRedisOptions({ layout: 'v1' })).toEqual({ layout: 'v1' });
  });

  it.each([
    [{ url: 'http://x' }, 'redis.url'],
    [{ url: 'redis://a', cluster: { nodes: ['a:1'] } }, 'redis.cluster'],
    [{ cluster: { nodes: [] } }, 'redis.cluster.nodes'],
    [{ cluster: { nodes: ['nohost'] } }, 'redis.cluster.nodes'],
    [{ ownerTtl: 10 }, 'redis.ownerTtl'],
    [{ startupTimeout: '5s' }, 'redis.startupTimeout'],
    [{ allowDegradedStart: 'yes' }, 'redis.allowDegradedStart'],
    [{ keyPrefix: '' }, 'redis.keyPrefix'],
    [{ client: {} }, 'redis.client'],
    [{ sentinel: true }, 'redis.sentinel'],
    [{ layout: 'v3' }, 'redis.layout'],
  ])('rejects %j naming %s', (options, name) => {
    expect(() => validateRedisOptions(options)).toThrow(DedupOptionsError);
    expect(() => validateRedisOptions(options)).toThrow(`"${name}"`);
  });

  it('never prints a password from a URL', () => {
    expect(() => validateRedisOptions({ url: 'http://user:s3cret@host' })).toThrow(/\*\*\*/);
    expect(() => validateRedisOptions({ url: 'http://user:s3cret@host' })).not.toThrow(/s3cret/);
  });
});
