import type { ConfigService } from '@nestjs/config';
import type { GrpcPoolOptions } from '@nest-resilience/grpc-pool';
import { repoFile } from '../../../shared/repo-file';
import type { UserServiceConfig } from '../config/user-service.env';
import { AUTH_POOL } from './auth.constants';

/**
 * The pool to auth-service. `AUTH_GRPC_URLS` is either static addresses or one `dns:///name:port`:
 * then the pool resolves the name itself (`AUTH_DNS_SERVERS`, every `AUTH_DNS_REFRESH_MS`) and
 * keeps connections to **each** address, following scale-ups and removals. `GRPC_POOL_SIZE`
 * connections per address (`1` is the single-connection rollback), or from there up to
 * `GRPC_POOL_SIZE_MAX` as the load needs; `grpc.health.v1` checks so a dead process is ejected
 * before a call has to fail on it, and a new one takes calls once it answers SERVING.
 */
export function authPoolOptions(config: ConfigService<UserServiceConfig, true>): GrpcPoolOptions {
  const urls = config.get('authUrls', { infer: true });
  const size = config.get('grpcPoolSize', { infer: true });
  const sizeMax = config.get('grpcPoolSizeMax', { infer: true });
  const servers = config.get('authDnsServers', { infer: true });
  const target: Pick<GrpcPoolOptions, 'url' | 'urls' | 'discovery'> =
    urls.length === 1 && urls[0].startsWith('dns:///')
      ? {
          url: urls[0],
          discovery: {
            refreshIntervalMs: config.get('authDnsRefreshMs', { infer: true }),
            ...(servers ? { servers } : {}),
          },
        }
      : { urls };
  return {
    name: AUTH_POOL,
    package: 'auth.v1',
    protoPath: repoFile('apps/proto/auth.proto'),
    ...target,
    size: sizeMax === undefined ? size : { min: size, max: sizeMax },
    credentials: { insecure: true },
    timeoutMs: config.get('authTimeoutMs', { infer: true }),
    // Generous check timeout: a check that times out because this process is busy (not because
    // auth is down) would eject a healthy connection. A killed process is ejected anyway by the
    // channel's connectivity change, before any check.
    healthCheck: { intervalMs: 2000, timeoutMs: 2000 },
  };
}
