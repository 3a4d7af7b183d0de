import { ShutdownSignal, type INestApplication, type LogLevel } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { Partitioners, type Consumer } from 'kafkajs';
import { BinarySafeServerKafka, DedupKafkaServer } from '@nest-resilience/kafka-dedup';
import { repoFile } from '../../shared/repo-file';
import { AppModule } from './app.module';
import { CDC_PARTITIONS_IN_FLIGHT } from './cdc/dedup.options';
import type { UserServiceConfig } from './config/user-service.env';
import { KafkaConsumerStatus } from './kafka/kafka-consumer.status';

/** Where a user-service listens and what it consumes (from its validated configuration). */
export type UserServiceEndpoints = Pick<
  UserServiceConfig,
  'httpHost' | 'httpPort' | 'grpcUrl' | 'kafkaBrokers' | 'kafkaGroupId' | 'cdcTopic'
>;

/** A created (not yet started) user-service. */
export interface UserServiceApp {
  app: INestApplication;
  config: UserServiceEndpoints;
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
  const configService = app.get<ConfigService<UserServiceConfig, true>>(ConfigService);
  const get = <K extends keyof UserServiceConfig>(key: K): UserServiceConfig[K] =>
    configService.get(key, { infer: true });
  // Nest's shutdown signals, less SIGUSR2 while the event-loop stall test hook owns it
  app.enableShutdownHooks(
    Object.values(ShutdownSignal).filter(
      (signal) => signal !== ShutdownSignal.SIGUSR2 || get('debugEventLoopStallMs') === 0,
    ),
  );
  const config: UserServiceEndpoints = {
    httpHost: get('httpHost'),
    httpPort: get('httpPort'),
    grpcUrl: get('grpcUrl'),
    kafkaBrokers: get('kafkaBrokers'),
    kafkaGroupId: get('kafkaGroupId'),
    cdcTopic: get('cdcTopic'),
  };
  const kafkaOptions = {
    client: { clientId: 'user-service', brokers: config.kafkaBrokers },
    consumer: { groupId: config.kafkaGroupId },
    // the server's producer (replies) keeps kafkajs 2's default partitioner, without its warning
    producer: { createPartitioner: Partitioners.DefaultPartitioner },
    subscribe: { fromBeginning: true },
    run: { partitionsConsumedConcurrently: CDC_PARTITIONS_IN_FLIGHT },
  };
  const kafka = app.connectMicroservice<MicroserviceOptions>(
    // KAFKA_DEDUP_BATCH_TRANSACTIONS: batch mode, one inbox transaction per chunk of a batch;
    // otherwise Nest's server per message, binary-safe ids, each topic's handler looked up once
    get('dedupBatchTransactions')
      ? { strategy: new DedupKafkaServer(kafkaOptions) }
      : { strategy: new BinarySafeServerKafka(kafkaOptions) },
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
