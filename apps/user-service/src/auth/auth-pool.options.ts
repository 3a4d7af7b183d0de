import type { ConfigService } from '@nestjs/config';
import type { GrpcPoolOptions } from '@nest-resilience/grpc-pool';
import { repoFile } from '../../../shared/repo-file';
import type { UserServiceConfig } from '../config/user-service.env';
import { AUTH_POOL } from './auth.constants';

/**
 * The pool to auth-service: `GRPC_POOL_SIZE` connections to each address of `AUTH_GRPC_URLS`
 * (`GRPC_POOL_SIZE=1` is the single-connection rollback), `grpc.health.v1` checks so a dead
 * process is ejected before a call has to fail on it.
 */
export function authPoolOptions(config: ConfigService<UserServiceConfig, true>): GrpcPoolOptions {
  return {
    name: AUTH_POOL,
    package: 'auth.v1',
    protoPath: repoFile('apps/proto/auth.proto'),
    urls: config.get('authUrls', { infer: true }),
    size: config.get('grpcPoolSize', { infer: true }),
    credentials: { insecure: true },
    timeoutMs: config.get('authTimeoutMs', { infer: true }),
    // Generous check timeout: a check that times out because this process is busy (not because
    // auth is down) would eject a healthy connection. A killed process is ejected anyway by the
    // channel's connectivity change, before any check.
    healthCheck: { intervalMs: 2000, timeoutMs: 2000 },
  };
}
