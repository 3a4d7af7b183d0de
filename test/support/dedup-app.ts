import { Controller, INestMicroservice, LoggerService, Module } from '@nestjs/common';
import { EventPattern, Payload, Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import {
  BinarySafeServerKafka,
  DedupModule,
  Deduplicate,
  type DedupModuleOptions,
} from '@nest-resilience/kafka-dedup';
import { KAFKA_BROKER } from './kcat';

/** Collects what the app logs at warn and error level (other levels are dropped). */
export class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(): void {}
  debug(): void {}
  verbose(): void {}
  warn(message: unknown, context?: string): void {
    this.lines.push(`WARN [${context ?? ''}] ${String(message)}`);
  }
  error(message: unknown, _trace?: string, context?: string): void {
    this.lines.push(`ERROR [${context ?? ''}] ${String(message)}`);
  }
  fatal(message: unknown): void {
    this.lines.push(`FATAL ${String(message)}`);
  }
}

/** Settings of {@link startDedupApp}. */
export interface DedupAppSpec {
  topic: string;
  group: string;
  dedup: DedupModuleOptions;
  behaviour: (value: unknown) => Promise<void> | void;
  /** `binary-safe`: {@link BinarySafeServerKafka} instead of Nest's stock Kafka server. */
  server?: 'stock' | 'binary-safe';
  logger?: CapturingLogger;
}

/**
 * A real Nest Kafka microservice with one `@Deduplicate()` event handler, on Nest's stock Kafka
 * server or on BinarySafeServerKafka, optionally logging into a {@link CapturingLogger}.
 */
export async function startDedupApp(spec: DedupAppSpec): Promise<INestMicroservice> {
  @Controller()
  class Handler {
    @EventPattern<string>(spec.topic)
    @Deduplicate()
    async handle(@Payload() value: unknown): Promise<void> {
      await spec.behaviour(value);
    }
  }

  @Module({ imports: [DedupModule.forRoot(spec.dedup)], controllers: [Handler] })
  class AppModule {}

  const kafka = {
    client: { clientId: spec.group, brokers: [KAFKA_BROKER] },
    consumer: { groupId: spec.group, sessionTimeout: 10_000, heartbeatInterval: 500 },
    subscribe: { fromBeginning: true },
  };
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const logger = spec.logger ?? (['error'] as const);
  const app = moduleRef.createNestMicroservice<MicroserviceOptions>(
    spec.server === 'binary-safe'
      ? { strategy: new BinarySafeServerKafka(kafka), logger: logger as never }
      : { transport: Transport.KAFKA, options: kafka, logger: logger as never },
  );
  await app.listen();
  return app;
}
