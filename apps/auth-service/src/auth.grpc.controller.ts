import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { AUTH_SERVICE_CONFIG } from './auth.constants';
import type { AuthServiceConfig } from './auth-service.env';
import { verifyToken } from './auth-token';
import { AuthMetrics } from './auth.metrics';

/** `auth.v1.AuthService`. */
@Controller()
export class AuthGrpcController {
  constructor(
    @Inject(AUTH_SERVICE_CONFIG) private readonly config: AuthServiceConfig,
    private readonly metrics: AuthMetrics,
  ) {}

  @GrpcMethod('AuthService', 'VerifyToken')
  verifyToken(request: { token?: string }): { valid: boolean; subject: string; instance: string } {
    const subject = verifyToken(request.token ?? '', this.config.tokenSecret);
    this.metrics.verified(subject !== undefined);
    return { valid: subject !== undefined, subject: subject ?? '', instance: this.config.instance };
  }
}
