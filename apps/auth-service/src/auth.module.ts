import { Module, type DynamicModule } from '@nestjs/common';
import { AUTH_SERVICE_CONFIG } from './auth.constants';
import type { AuthServiceConfig } from './auth-service.env';
import { AuthGrpcController } from './auth.grpc.controller';
import { HealthGrpcController } from './health.grpc.controller';

/** auth-service: token verification and gRPC health. */
@Module({})
export class AuthModule {
  static forRoot(config: AuthServiceConfig): DynamicModule {
    return {
      module: AuthModule,
      controllers: [AuthGrpcController, HealthGrpcController],
      providers: [{ provide: AUTH_SERVICE_CONFIG, useValue: config }],
    };
  }
}
