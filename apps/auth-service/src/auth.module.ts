import { Module, type DynamicModule } from '@nestjs/common';
import { AUTH_SERVICE_CONFIG } from './auth.constants';
import type { AuthServiceConfig } from './auth-service.env';
import { AuthGrpcController } from './auth.grpc.controller';
import { AuthMetricsServer } from './auth-metrics.server';
import { AuthMetrics } from './auth.metrics';
import { HealthGrpcController } from './health.grpc.controller';

/** auth-service: token verification, gRPC health, and its answers counted (AUTH_METRICS_PORT). */
@Module({})
export class AuthModule {
  static forRoot(config: AuthServiceConfig): DynamicModule {
    return {
      module: AuthModule,
      controllers: [AuthGrpcController, HealthGrpcController],
      providers: [
        { provide: AUTH_SERVICE_CONFIG, useValue: config },
        AuthMetrics,
        AuthMetricsServer,
      ],
    };
  }
}
