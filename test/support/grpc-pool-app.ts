import type { TestingModule } from '@nestjs/testing';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import {
  GrpcPool,
  GrpcPoolModule,
  getGrpcPoolToken,
  type GrpcPoolOptions,
} from '@nest-resilience/grpc-pool';
import { ECHO_PROTO } from '../../scripts/support/grpc-backend';

/** A Nest app with one pool registered through `GrpcPoolModule.register()`, bootstrapped. */
export async function startPool(
  options: Partial<GrpcPoolOptions> & Pick<GrpcPoolOptions, 'name'>,
): Promise<{ pool: GrpcPool; app: TestingModule }> {
  register.clear();
  const app = await Test.createTestingModule({
    imports: [
      GrpcPoolModule.register({
        package: 'echo.v1',
        protoPath: ECHO_PROTO,
        credentials: { insecure: true },
        ...options,
      } as GrpcPoolOptions),
    ],
  }).compile();
  await app.init();
  return { pool: app.get<GrpcPool>(getGrpcPoolToken(options.name)), app };
}
