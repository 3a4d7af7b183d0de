import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MicroserviceOptions, Transport } from '@nestjs/microservices';
import { AppModule } from './app.module';
import type { UserServiceConfig } from './user-service.config';

/**
 * Creates the hybrid app: HTTP (GET /metrics) plus the Kafka consumer, which inherits the app's
 * global enhancers (`inheritAppConfig`). The caller starts it (`startAllMicroservices`, `listen`).
 */
export async function createUserServiceApp(
  config: UserServiceConfig,
  options: { logger?: false | ('log' | 'error' | 'warn')[] } = {},
): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule, { logger: options.logger });
  app.enableShutdownHooks();
  app.connectMicroservice<MicroserviceOptions>(
    {
      transport: Transport.KAFKA,
      options: {
        client: { clientId: 'user-service', brokers: config.kafkaBrokers },
        consumer: { groupId: config.consumerGroup },
        subscribe: { fromBeginning: true },
      },
    },
    { inheritAppConfig: true },
  );
  return app;
}
