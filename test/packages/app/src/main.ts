/**
 * The app a user writes after `npm install @nest-resilience/kafka-dedup @nest-resilience/grpc-pool`:
 * copied into a scratch directory outside the repo by test/packages.e2e-spec.ts, compiled there with
 * that app's own TypeScript against the installed tarballs, and run on the Nest major under test.
 * It prints one JSON line per event: `{"ready":…}` once consuming, `{"handled":…}` per handler run.
 */
import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, Payload, Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { Deduplicate, DedupModule } from '@nest-resilience/kafka-dedup';
import { GrpcPoolModule, InjectGrpcPool, type GrpcPool } from '@nest-resilience/grpc-pool';
import { extraImports, sweepInRegistry } from './extras.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const TOPIC = env('TOPIC');

interface EchoClient {
  ping(request: { id: string }): Promise<{ id: string; server: string }>;
}

@Controller()
class EventsController {
  private readonly echo: EchoClient;

  constructor(@InjectGrpcPool('echo') pool: GrpcPool) {
    this.echo = pool.getService<EchoClient>('EchoService');
  }

  @EventPattern<string>(TOPIC)
  @Deduplicate()
  async onEvent(@Payload() event: { id: string }): Promise<void> {
    const reply = await this.echo.ping({ id: event.id });
    console.log(JSON.stringify({ handled: event.id, reply }));
  }
}

@Module({
  imports: [
    ...extraImports,
    DedupModule.forRoot({ store: 'memory', group: env('GROUP') }),
    GrpcPoolModule.register({
      name: 'echo',
      package: 'echo.v1',
      protoPath: env('PROTO_PATH'),
      url: env('GRPC_URL'),
      size: 2,
      credentials: { insecure: true },
    }),
  ],
  controllers: [EventsController],
})
class AppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(AppModule, {
    transport: Transport.KAFKA,
    options: {
      client: { clientId: 'packages-e2e', brokers: [env('KAFKA_BROKER')] },
      consumer: { groupId: env('GROUP') },
      subscribe: { fromBeginning: true },
    },
    logger: ['error', 'warn'],
  });
  app.enableShutdownHooks();
  await app.listen();
  console.log(
    JSON.stringify({ ready: true, node: process.version, sweepInRegistry: sweepInRegistry(app) }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
