import { Controller, INestMicroservice, Module } from '@nestjs/common';
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
  const app = moduleRef.createNestMicroservice<MicroserviceOptions>({
    transport: Transport.KAFKA,
    logger: ['error'],
    options: {
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
      },
      subscribe: { fromBeginning: true },
      run: spec.run,
    },
  });
  await app.listen();
  return app;
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
