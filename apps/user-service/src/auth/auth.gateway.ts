import { Injectable } from '@nestjs/common';
import { InjectGrpcPool, UsePooledGrpc, type GrpcPool } from '@nest-resilience/grpc-pool';
import { AUTH_POOL } from './auth.constants';

/** `auth.v1.VerifyTokenResponse`. */
export interface VerifiedToken {
  valid: boolean;
  subject: string;
  instance: string;
}

interface AuthServiceClient {
  verifyToken(request: { token: string }): Promise<VerifiedToken>;
}

/** Calls `auth.v1.AuthService` through the pool. */
@Injectable()
export class AuthGateway {
  private readonly auth: AuthServiceClient;

  constructor(@InjectGrpcPool(AUTH_POOL) readonly pool: GrpcPool) {
    this.auth = pool.getService<AuthServiceClient>('AuthService');
  }

  /** Verification has no side effect: a slow or failed attempt may be retried elsewhere. */
  @UsePooledGrpc(AUTH_POOL, { idempotent: true, attemptTimeoutMs: 750 })
  verify(token: string): Promise<VerifiedToken> {
    return this.auth.verifyToken({ token });
  }
}
