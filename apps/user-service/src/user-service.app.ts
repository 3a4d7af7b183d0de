import type { INestApplication, LogLevel } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { Partitioners, type Consumer } from 'kafkajs';
import { repoFile } from '../../shared/repo-file';
import { AppModule } from './app.module';
import type { UserServiceConfig } from './config/user-service.env';
import { KafkaConsumerStatus } from './kafka/kafka-consumer.status';

/** A created (not yet started) user-service and its validated configuration. */
export interface UserServiceApp {
  app: INestApplication;
  config: UserServiceConfig;
  /** Initialises (DB migrations, topics), starts the Kafka consumer and gRPC server, listens on HTTP. */
  start(): Promise<void>;
}

/**
 * Creates the hybrid app: HTTP (`/users/:id`, `/metrics`, `/health`), the Kafka CDC consumer
 * (inheriting global enhancers) and the `users.v1.UserService` gRPC server.
 */
export async function createUserServiceApp(
  options: { env?: Record<string, string>; logger?: false | LogLevel[] } = {},
): Promise<UserServiceApp> {
  const app = await NestFactory.create(AppModule.forRoot(options.env), {
    logger: options.logger,
    abortOnError: false,
  });
  app.enableShutdownHooks();
  const configService = app.get<ConfigService<UserServiceConfig, true>>(ConfigService);
  const config = Object.fromEntries(
    (
      [
        'httpHost',
        'httpPort',
        'grpcUrl',
        'kafkaBrokers',
        'kafkaGroupId',
        'cdcTopic',
      ] as const satisfies (keyof UserServiceConfig)[]
    ).map((k) => [k, configService.get(k, { infer: true })]),
  ) as unknown as UserServiceConfig;
  const kafka = app.connectMicroservice<MicroserviceOptions>(
    {
      transport: Transport.KAFKA,
      options: {
        client: { clientId: 'user-service', brokers: config.kafkaBrokers },
        consumer: { groupId: config.kafkaGroupId },
        // the server's producer (replies) keeps kafkajs 2's default partitioner, without its warning
        producer: { createPartitioner: Partitioners.DefaultPartitioner },
        subscribe: { fromBeginning: true },
        run: { partitionsConsumedConcurrently: 3 },
      },
    },
    { inheritAppConfig: true },
  );
  app.connectMicroservice<MicroserviceOptions>({
    transport: Transport.GRPC,
    options: {
      package: 'users.v1',
      protoPath: repoFile('apps/proto/users.proto'),
      url: config.grpcUrl,
      loader: { keepCase: true },
    },
  });
  return {
    app,
    config,
    async start() {
      await app.init();
      await app.startAllMicroservices();
      const [, consumer] = kafka.unwrap<[unknown, Consumer]>();
      app.get(KafkaConsumerStatus).watch(consumer);
      await app.listen(config.httpPort, config.httpHost);
    },
  };
}
