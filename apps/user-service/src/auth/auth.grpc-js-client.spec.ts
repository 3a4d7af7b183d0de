import { GRPC_JS_ROUND_ROBIN_SERVICE_CONFIG, grpcJsTarget } from './auth.grpc-js-client';

describe('grpcJsTarget', () => {
  it('lists static IPv4 addresses for round_robin, keeps a dns:/// name as it is', () => {
    expect(grpcJsTarget(['127.0.0.2:50061', '127.0.0.3:50061'])).toBe(
      'ipv4:127.0.0.2:50061,127.0.0.3:50061',
    );
    expect(grpcJsTarget(['dns:///auth.svc:50061'])).toBe('dns:///auth.svc:50061');
    expect(grpcJsTarget(['auth:50061'])).toBe('dns:///auth:50061');
  });

  it('asks for round_robin and retries UNAVAILABLE on auth.v1.AuthService', () => {
    const config = JSON.parse(GRPC_JS_ROUND_ROBIN_SERVICE_CONFIG) as {
      loadBalancingConfig: unknown[];
      methodConfig: {
        name: { service: string }[];
        retryPolicy: { retryableStatusCodes: string[] };
      }[];
    };
    expect(config.loadBalancingConfig).toEqual([{ round_robin: {} }]);
    expect(config.methodConfig[0].name[0].service).toBe('auth.v1.AuthService');
    expect(config.methodConfig[0].retryPolicy.retryableStatusCodes).toEqual(['UNAVAILABLE']);
  });
});
