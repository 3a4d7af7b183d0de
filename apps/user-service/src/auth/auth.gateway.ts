import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectGrpcPool, UsePooledGrpc, type GrpcPool } from '@nest-resilience/grpc-pool';
import type { UserServiceConfig } from '../config/user-service.env';
import { AUTH_POOL } from './auth.constants';
import { GrpcJsAuthClient } from './auth.grpc-js-client';
import type { VerifiedToken } from './auth.verified-token';

export type { VerifiedToken } from './auth.verified-token';

interface AuthServiceClient {
  verifyToken(request: { token: string }): Promise<VerifiedToken>;
}

/**
 * Calls `auth.v1.AuthService` through the pool, or (`AUTH_CLIENT=grpc-js`, the comparison
 * baseline) through one plain grpc-js channel with `round_robin` and a `retryPolicy`.
 */
@Injectable()
export class AuthGateway implements OnModuleDestroy {
  private readonly auth: AuthServiceClient;
  private readonly plain?: GrpcJsAuthClient;

  constructor(
    @InjectGrpcPool(AUTH_POOL) readonly pool: GrpcPool,
    config: ConfigService<UserServiceConfig, true>,
  ) {
    this.auth = pool.getService<AuthServiceClient>('AuthService');
    if (config.get('authClient', { infer: true }) === 'grpc-js')
      this.plain = new GrpcJsAuthClient(
        config.get('authUrls', { infer: true }),
        config.get('authTimeoutMs', { infer: true }),
      );
  }

  verify(token: string): Promise<VerifiedToken> {
    return this.plain ? this.plain.verifyToken(token) : this.verifyPooled(token);
  }

  onModuleDestroy(): void {
    this.plain?.close();
  }

  /** Verification has no side effect: a slow or failed attempt may be retried elsewhere. */
  @UsePooledGrpc(AUTH_POOL, { idempotent: true, attemptTimeoutMs: 750 })
  private verifyPooled(token: string): Promise<VerifiedToken> {
    return this.auth.verifyToken({ token });
  }
}
