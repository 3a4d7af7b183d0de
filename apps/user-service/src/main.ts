import { NestFactory } from '@nestjs/core';
import { MicroserviceOptions, Transport } from '@nestjs/microservices';
import { AppModule } from './app.module';
import { loadUserServiceConfig } from './user-service.config';

async function bootstrap(): Promise<void> {
  const config = loadUserServiceConfig();
  const app = await NestFactory.create(AppModule);
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
  await app.startAllMicroservices();
  await app.listen(config.httpPort, '127.0.0.1');
}

void bootstrap();
