import { InvalidEnvironmentError } from '../../../shared/env-reader';
import { validateUserServiceEnv } from './user-service.env';

describe('validateUserServiceEnv', () => {
  it('uses loopback defaults, the embedded database and the inbox store in it when nothing is set', () => {
    const config = validateUserServiceEnv({});
    expect(config).toMatchObject({
      kafkaBrokers: ['127.0.0.1:9092'],
      cdcTopic: 'cdc.users',
      kafkaGroupId: 'user-service',
      httpPort: 3000,
      dedupStore: 'postgres',
      dedupTtlSeconds: 3600,
      grpcPoolSize: 3,
      pgliteDataDir: 'memory://',
    });
    expect(config.databaseUrl).toBeUndefined();
  });

  it('derives the broker from KAFKA_PORT, and KAFKA_BROKERS wins over it', () => {
    expect(validateUserServiceEnv({ KAFKA_PORT: '19092' }).kafkaBrokers).toEqual([
      '127.0.0.1:19092',
    ]);
    expect(
      validateUserServiceEnv({ KAFKA_PORT: '19092', KAFKA_BROKERS: 'a:1, b:2' }).kafkaBrokers,
    ).toEqual(['a:1', 'b:2']);
  });

  it('keeps the rollback knobs: KAFKA_DEDUP_TTL_SECONDS=0 and GRPC_POOL_SIZE=1', () => {
    const config = validateUserServiceEnv({ KAFKA_DEDUP_TTL_SECONDS: '0', GRPC_POOL_SIZE: '1' });
    expect([config.dedupTtlSeconds, config.grpcPoolSize]).toEqual([0, 1]);
  });

  it('names every invalid variable with its value and what was expected', () => {
    let error: unknown;
    try {
      validateUserServiceEnv({
        GRPC_POOL_SIZE: '0',
        HTTP_PORT: 'eighty',
        KAFKA_DEDUP_STORE: 'disk',
        AUTH_GRPC_URLS: 'auth',
        DATABASE_URL: 'postgres://user:secret@db:port/users',
        KAFKA_DEDUP_CLEANUP_CRON: 'every minute',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidEnvironmentError);
    const message = (error as Error).message;
    expect(message).toContain('GRPC_POOL_SIZE="0" (expected an integer from 1 to 64)');
    expect(message).toContain('HTTP_PORT="eighty"');
    expect(message).toContain('KAFKA_DEDUP_STORE="disk" (expected one of memory, redis, postgres)');
    expect(message).toContain(
      'AUTH_GRPC_URLS="auth" (expected a comma-separated list of host:port, or one dns:///name:port',
    );
    expect(message).toContain('DATABASE_URL="postgres://user:***@db:port/users"');
    expect(message).toContain(
      'KAFKA_DEDUP_CLEANUP_CRON="every minute" (expected a cron expression',
    );
    expect(message).not.toContain('secret');
  });

  it('takes the inbox store on either database: embedded PGlite or a DATABASE_URL', () => {
    expect(validateUserServiceEnv({ KAFKA_DEDUP_STORE: 'postgres' }).dedupStore).toBe('postgres');
    const config = validateUserServiceEnv({
      KAFKA_DEDUP_STORE: 'postgres',
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/users',
    });
    expect(config.dedupStore).toBe('postgres');
  });

  it('switches batch transactions on by KAFKA_DEDUP_BATCH_TRANSACTIONS, only with the postgres store', () => {
    expect(validateUserServiceEnv({}).dedupBatchTransactions).toBe(false);
    expect(
      validateUserServiceEnv({ KAFKA_DEDUP_BATCH_TRANSACTIONS: 'true' }).dedupBatchTransactions,
    ).toBe(true);
    expect(() =>
      validateUserServiceEnv({
        KAFKA_DEDUP_BATCH_TRANSACTIONS: 'true',
        KAFKA_DEDUP_STORE: 'redis',
      }),
    ).toThrow(
      'KAFKA_DEDUP_BATCH_TRANSACTIONS="true" (expected true only with KAFKA_DEDUP_STORE=postgres',
    );
    expect(() => validateUserServiceEnv({ KAFKA_DEDUP_BATCH_TRANSACTIONS: 'yes' })).toThrow(
      'KAFKA_DEDUP_BATCH_TRANSACTIONS="yes"',
    );
  });

  it('picks the Redis store layout by KAFKA_DEDUP_REDIS_LAYOUT (v1 unless set), naming a bad value', () => {
    expect(validateUserServiceEnv({}).dedupRedisLayout).toBe('v1');
    expect(
      validateUserServiceEnv({ KAFKA_DEDUP_STORE: 'redis', KAFKA_DEDUP_REDIS_LAYOUT: 'v2' })
        .dedupRedisLayout,
    ).toBe('v2');
    expect(() => validateUserServiceEnv({ KAFKA_DEDUP_REDIS_LAYOUT: 'v3' })).toThrow(
      'KAFKA_DEDUP_REDIS_LAYOUT="v3"',
    );
  });

  it('takes auth addresses as a host:port list, or one dns:///name:port the pool resolves itself', () => {
    const fixed = validateUserServiceEnv({ AUTH_GRPC_URLS: 'a:50061, 10.0.0.7:50061' });
    expect(fixed.authUrls).toEqual(['a:50061', '10.0.0.7:50061']);
    expect([fixed.authDnsServers, fixed.grpcPoolSizeMax]).toEqual([undefined, undefined]);
    const name = 'dns:///auth-service-headless.nest-resilience.svc.cluster.local:50061';
    expect(validateUserServiceEnv({ AUTH_GRPC_URLS: name })).toMatchObject({
      authUrls: [name],
      authDnsRefreshMs: 10_000,
    });
    expect(
      validateUserServiceEnv({
        AUTH_GRPC_URLS: 'dns:///auth.demo.test:50061',
        AUTH_DNS_SERVERS: '127.0.0.1:5353, 10.96.0.10,[::1]:53',
        AUTH_DNS_REFRESH_MS: '1000',
        GRPC_POOL_SIZE: '1',
        GRPC_POOL_SIZE_MAX: '4',
      }),
    ).toMatchObject({
      authDnsServers: ['127.0.0.1:5353', '10.96.0.10', '[::1]:53'],
      authDnsRefreshMs: 1000,
      grpcPoolSize: 1,
      grpcPoolSizeMax: 4,
    });
  });

  it('rejects a dns:/// entry among others, an IP or a malformed one, naming AUTH_GRPC_URLS', () => {
    const expected =
      '(expected a comma-separated list of host:port, or one dns:///name:port (a DNS name, e.g. a headless Service))';
    for (const value of [
      'dns:///auth:50061,10.0.0.7:50061',
      'dns://auth:50061',
      'dns:///10.0.0.7:50061',
      'auth',
    ])
      expect(() => validateUserServiceEnv({ AUTH_GRPC_URLS: value })).toThrow(
        `AUTH_GRPC_URLS=${JSON.stringify(value)} ${expected}`,
      );
  });

  it('names a bad AUTH_DNS_SERVERS, AUTH_DNS_REFRESH_MS or GRPC_POOL_SIZE_MAX with its value', () => {
    const dns = { AUTH_GRPC_URLS: 'dns:///auth.test:50061' };
    expect(() => validateUserServiceEnv({ ...dns, AUTH_DNS_SERVERS: 'dns.local:53' })).toThrow(
      'AUTH_DNS_SERVERS="dns.local:53" (expected a comma-separated list of ip, ip:port or [ipv6]:port)',
    );
    expect(() => validateUserServiceEnv({ ...dns, AUTH_DNS_REFRESH_MS: '50' })).toThrow(
      'AUTH_DNS_REFRESH_MS="50" (expected an integer from 100 to 600000)',
    );
    expect(() =>
      validateUserServiceEnv({ ...dns, GRPC_POOL_SIZE: '3', GRPC_POOL_SIZE_MAX: '2' }),
    ).toThrow('GRPC_POOL_SIZE_MAX="2" (expected an integer from 3 to 64)');
    expect(() => validateUserServiceEnv({ GRPC_POOL_SIZE_MAX: 'many' })).toThrow(
      'GRPC_POOL_SIZE_MAX="many"',
    );
  });

  it('accepts DNS settings beside static addresses (unused), so a rollback changes one variable', () => {
    const config = validateUserServiceEnv({
      AUTH_GRPC_URLS: 'a:1',
      AUTH_DNS_SERVERS: '127.0.0.1:53',
      AUTH_DNS_REFRESH_MS: '1000',
    });
    expect(config.authUrls).toEqual(['a:1']);
  });

  it('keeps the event-loop stall hook off unless DEBUG_EVENT_LOOP_STALL_MS is set', () => {
    expect(validateUserServiceEnv({}).debugEventLoopStallMs).toBe(0);
    expect(
      validateUserServiceEnv({ DEBUG_EVENT_LOOP_STALL_MS: '3000' }).debugEventLoopStallMs,
    ).toBe(3000);
    expect(() => validateUserServiceEnv({ DEBUG_EVENT_LOOP_STALL_MS: '-1' })).toThrow(
      /DEBUG_EVENT_LOOP_STALL_MS="-1"/,
    );
  });

  it('keeps the memory store selectable, its size from KAFKA_DEDUP_MAX_ENTRIES', () => {
    expect(validateUserServiceEnv({ KAFKA_DEDUP_STORE: 'memory' })).toMatchObject({
      dedupStore: 'memory',
      dedupMaxEntries: 1_000_000,
    });
    expect(validateUserServiceEnv({ KAFKA_DEDUP_MAX_ENTRIES: '5000000' }).dedupMaxEntries).toBe(
      5_000_000,
    );
    expect(() => validateUserServiceEnv({ KAFKA_DEDUP_MAX_ENTRIES: '0' })).toThrow(
      /KAFKA_DEDUP_MAX_ENTRIES="0"/,
    );
  });

  it('calls auth through the pool unless AUTH_CLIENT=grpc-js (the benchmark baseline)', () => {
    expect(validateUserServiceEnv({}).authClient).toBe('pool');
    expect(validateUserServiceEnv({ AUTH_CLIENT: 'grpc-js' }).authClient).toBe('grpc-js');
    expect(() => validateUserServiceEnv({ AUTH_CLIENT: 'envoy' })).toThrow(
      /AUTH_CLIENT="envoy" \(expected one of pool, grpc-js\)/,
    );
  });

  it('accepts a PostgreSQL DATABASE_URL and the Redis store', () => {
    const config = validateUserServiceEnv({
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/users',
      KAFKA_DEDUP_STORE: 'redis',
      KAFKA_DEDUP_REDIS_URL: 'redis://redis:6379',
    });
    expect(config).toMatchObject({ dedupStore: 'redis', dedupRedisUrl: 'redis://redis:6379' });
  });
});
