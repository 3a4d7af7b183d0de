import { Controller, INestMicroservice, LoggerService, Module } from '@nestjs/common';
import {
  Ctx,
  EventPattern,
  KafkaContext,
  Payload,
  Transport,
  type MicroserviceOptions,
} from '@nestjs/microservices';
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
  /**
   * How the handler declares its parameters: `@Payload()` only (default), `@Payload()` and
   * `@Ctx()`, none (`handle(value)`), or none with `@Deduplicate()` on the class.
   */
  handler?: 'payload' | 'payload-ctx' | 'undecorated' | 'class';
  /** Receives the handler's second argument (a KafkaContext when Nest passes one). */
  onContext?: (context: unknown) => void;
  /** `binary-safe`: {@link BinarySafeServerKafka} instead of Nest's stock Kafka server. */
  server?: 'stock' | 'binary-safe';
  logger?: CapturingLogger;
}

/**
 * A real Nest Kafka microservice with one `@Deduplicate()` event handler, on Nest's stock Kafka
 * server or on BinarySafeServerKafka, optionally logging into a {@link CapturingLogger}.
 */
export async function startDedupApp(spec: DedupAppSpec): Promise<INestMicroservice> {
  const run = (value: unknown, context?: unknown): Promise<void> | void => {
    spec.onContext?.(context);
    return spec.behaviour(value);
  };

  @Controller()
  class PayloadHandler {
    @EventPattern<string>(spec.topic)
    @Deduplicate()
    async handle(@Payload() value: unknown): Promise<void> {
      await run(value);
    }
  }

  @Controller()
  class PayloadContextHandler {
    @EventPattern<string>(spec.topic)
    @Deduplicate()
    async handle(@Payload() value: unknown, @Ctx() context: KafkaContext): Promise<void> {
      await run(value, context);
    }
  }

  @Controller()
  class UndecoratedHandler {
    @EventPattern<string>(spec.topic)
    @Deduplicate()
    async handle(value: unknown, context?: unknown): Promise<void> {
      await run(value, context);
    }
  }

  @Controller()
  @Deduplicate()
  class ClassLevelHandler {
    @EventPattern<string>(spec.topic)
    async handle(value: unknown, context?: unknown): Promise<void> {
      await run(value, context);
    }
  }

  const Handler = {
    payload: PayloadHandler,
    'payload-ctx': PayloadContextHandler,
    undecorated: UndecoratedHandler,
    class: ClassLevelHandler,
  }[spec.handler ?? 'payload'];

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
