import type { ConfigService } from '@nestjs/config';
import { validateUserServiceEnv, type UserServiceConfig } from '../config/user-service.env';
import { authPoolOptions } from './auth-pool.options';

const optionsFor = (env: Record<string, string>) => {
  const config = validateUserServiceEnv(env);
  return authPoolOptions({
    get: (key: keyof UserServiceConfig) => config[key],
  } as unknown as ConfigService<UserServiceConfig, true>);
};

describe('authPoolOptions', () => {
  it('keeps static addresses as urls with a fixed size (GRPC_POOL_SIZE per address)', () => {
    const options = optionsFor({ AUTH_GRPC_URLS: '127.0.0.1:1,127.0.0.1:2', GRPC_POOL_SIZE: '2' });
    expect(options).toMatchObject({ urls: ['127.0.0.1:1', '127.0.0.1:2'], size: 2 });
    expect(options.url).toBeUndefined();
    expect(options.discovery).toBeUndefined();
  });

  it("turns one dns:/// name into the pool's discovery, with the DNS servers, refresh and size range", () => {
    const options = optionsFor({
      AUTH_GRPC_URLS: 'dns:///auth.demo.test:50061',
      AUTH_DNS_SERVERS: '127.0.0.1:5353',
      AUTH_DNS_REFRESH_MS: '1000',
      GRPC_POOL_SIZE: '1',
      GRPC_POOL_SIZE_MAX: '4',
    });
    expect(options).toMatchObject({
      url: 'dns:///auth.demo.test:50061',
      discovery: { servers: ['127.0.0.1:5353'], refreshIntervalMs: 1000 },
      size: { min: 1, max: 4 },
    });
    expect(options.urls).toBeUndefined();
  });

  it('asks the system resolver when AUTH_DNS_SERVERS is unset', () => {
    const options = optionsFor({ AUTH_GRPC_URLS: 'dns:///auth.default.svc:50061' });
    expect(options.discovery).toEqual({ refreshIntervalMs: 10_000 });
    expect(options.size).toBe(3);
  });
});
