import { Controller, INestMicroservice, LoggerService, Module } from '@nestjs/common';
import {
  Ctx,
  EventPattern,
  KafkaContext,
  MicroserviceOptions,
  Payload,
  Transport,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import {
  DedupKafkaServer,
  DedupModule,
  Deduplicate,
  SkipDeduplication,
  type DedupModuleOptions,
  type DeduplicateOptions,
} from '@nest-resilience/kafka-dedup';
import { KAFKA_BROKER } from './kcat';

/** What the test handler does with each delivery (its "side effect"). */
export type EventBehaviour = (value: unknown, ctx: KafkaContext) => Promise<void> | void;

/** Settings of one consumer app under test. */
export interface ConsumerSpec {
  topic: string;
  group: string;
  dedup: DedupModuleOptions;
  handler?: DeduplicateOptions;
  behaviour: EventBehaviour;
  /** kafkajs `run` options, e.g. `partitionsConsumedConcurrently`. */
  run?: Record<string, unknown>;
  /**
   * How the handler is deduplicated: `@Deduplicate()` (default), by `applyToAllHandlers` with no
   * decorator, or exempted with `@SkipDeduplication()`.
   */
  mode?: 'decorator' | 'global' | 'skip';
  /** Nest's `ServerKafka` (default) or batch mode (`DedupKafkaServer`). */
  server?: 'standard' | 'batch';
  /** kafkajs consumer options merged over the defaults (e.g. `sessionTimeout`). */
  consumer?: Record<string, unknown>;
  /** Receives the app's log lines (default: errors to the console). */
  logger?: LoggerService;
}

/**
 * Boots a real Nest Kafka microservice whose single `@EventPattern` handler is deduplicated with
 * `@Deduplicate()` by `DedupModule.forRoot(spec.dedup)`.
 */
export async function startConsumer(spec: ConsumerSpec): Promise<INestMicroservice> {
  const decorator =
    spec.mode === 'global'
      ? (): void => undefined
      : spec.mode === 'skip'
        ? SkipDeduplication()
        : Deduplicate(spec.handler);

  @Controller()
  class EventsController {
    @EventPattern<string>(spec.topic)
    @decorator
    async handle(@Payload() value: unknown, @Ctx() ctx: KafkaContext): Promise<void> {
      await spec.behaviour(value, ctx);
    }
  }

  @Module({ imports: [DedupModule.forRoot(spec.dedup)], controllers: [EventsController] })
  class ConsumerModule {}

  const moduleRef = await Test.createTestingModule({ imports: [ConsumerModule] }).compile();
  const options = {
    client: {
      clientId: spec.group,
      brokers: [KAFKA_BROKER],
      retry: { retries: 8, initialRetryTime: 100 },
    },
    consumer: {
      groupId: spec.group,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
      retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1_000 },
      ...spec.consumer,
    },
    subscribe: { fromBeginning: true },
    run: spec.run,
  };
  const logger = spec.logger ?? (['error'] as const);
  const app = moduleRef.createNestMicroservice<MicroserviceOptions>(
    spec.server === 'batch'
      ? { strategy: new DedupKafkaServer(options), logger: logger as never }
      : { transport: Transport.KAFKA, logger: logger as never, options },
  );
  await app.listen();
  return app;
}

/** Collects log lines by level (for assertions on what an operator sees). */
export class CapturingLogger implements LoggerService {
  readonly lines: Array<{ level: string; text: string }> = [];
  log(message: unknown): void {
    this.push('log', message);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.push('error', [message, ...rest].filter((m) => m !== undefined).join(' '));
  }
  warn(message: unknown): void {
    this.push('warn', message);
  }
  errors(containing: string): string[] {
    return this.lines
      .filter((l) => l.level === 'error' && l.text.includes(containing))
      .map((l) => l.text);
  }
  private push(level: string, message: unknown): void {
    this.lines.push({
      level,
      text: message instanceof Error ? String(message.stack) : String(message),
    });
  }
}

/** Counts calls per id. */
export class SideEffects {
  readonly counts = new Map<string, number>();
  record(id: string): void {
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
  }
  get total(): number {
    let sum = 0;
    for (const c of this.counts.values()) sum += c;
    return sum;
  }
  /** Ids whose side effect ran more than once. */
  repeated(): string[] {
    return [...this.counts].filter(([, c]) => c > 1).map(([id]) => id);
  }
}
