import { hostname } from 'node:os';
import { validateAuthServiceEnv } from './auth-service.env';

describe('validateAuthServiceEnv', () => {
  it('names an instance after its address unless AUTH_INSTANCE is set; a container after its host name', () => {
    const instance = (env: Record<string, string>) => validateAuthServiceEnv(env).instance;
    expect(instance({})).toBe('auth-50061');
    expect(instance({ AUTH_GRPC_URL: '127.0.0.3:50061' })).toBe('auth-127.0.0.3:50061');
    expect(instance({ AUTH_GRPC_URL: '0.0.0.0:50061' })).toBe(hostname());
    expect(instance({ AUTH_GRPC_URL: '0.0.0.0:50061', AUTH_INSTANCE: 'auth-2' })).toBe('auth-2');
  });

  it('serves metrics only when AUTH_METRICS_PORT is set, and names a bad one', () => {
    expect(validateAuthServiceEnv({}).metricsPort).toBeUndefined();
    expect(validateAuthServiceEnv({ AUTH_METRICS_PORT: '9464' }).metricsPort).toBe(9464);
    expect(() => validateAuthServiceEnv({ AUTH_METRICS_PORT: 'x' })).toThrow(
      'AUTH_METRICS_PORT="x" (expected an integer from 1 to 65535)',
    );
  });
});
