import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { repoFile } from '../../shared/repo-file';
import { DEV_TOKEN_SECRET, validateAuthServiceEnv } from './auth-service.env';
import { AuthModule } from './auth.module';

/**
 * One auth-service process; run several on different AUTH_GRPC_URL ports, or on one port of
 * different local addresses (127.0.0.2…N, pods). SIGTERM shuts it down gracefully: GOAWAY to its
 * clients, calls in flight finish (`tryShutdown`), then the process exits.
 */
async function bootstrap(): Promise<void> {
  const config = validateAuthServiceEnv(process.env);
  const logger = new Logger(config.instance);
  if (config.tokenSecret === DEV_TOKEN_SECRET) {
    logger.warn('AUTH_TOKEN_SECRET is not set: using the local development secret');
  }
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(
    AuthModule.forRoot(config),
    {
      transport: Transport.GRPC,
      options: {
        package: ['auth.v1', 'grpc.health.v1'],
        protoPath: [repoFile('apps/proto/auth.proto'), repoFile('apps/proto/health.proto')],
        url: config.grpcUrl,
        loader: { keepCase: true },
        gracefulShutdown: true,
      },
      logger: ['error', 'warn', 'log'],
    },
  );
  app.enableShutdownHooks();
  await app.listen();
  logger.log(`auth-service listening on ${config.grpcUrl}`);
}

bootstrap().catch((error: unknown) => {
  new Logger('auth-service').error(`start failed: ${(error as Error).message}`);
  process.exit(1);
});
