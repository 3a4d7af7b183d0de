/**
 * One case of `npm run bench:consumer`, in a process of its own (compiled with tsc: Nest's DI needs
 * the decorator metadata tsx does not emit). Boots a Nest Kafka microservice on the real broker,
 * consumes `events` messages already in `topic`, and prints one `BENCH_RESULT {json}` line.
 * The case arrives as JSON in argv[2]; see `WorkerCase`.
 */
import 'reflect-metadata';
import {
  CallHandler,
  Controller,
  ExecutionContext,
  Injectable,
  Module,
  NestInterceptor,
  UseInterceptors,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, Payload, Transport, type MicroserviceOptions } from '@nestjs/microservices';
import type { Observable } from 'rxjs';
import { DedupKafkaServer } from '../../libs/kafka-dedup/src/batch/dedup-kafka.server';
import { Deduplicate } from '../../libs/kafka-dedup/src/dedup.decorators';
import { DedupModule } from '../../libs/kafka-dedup/src/dedup.module';

/** What the orchestrator asks a worker to run. */
export interface WorkerCase {
  topic: string;
  groupId: string;
  broker: string;
  events: number;
  /** Time the handler waits (simulated I/O), in ms; 0: trivial handler. */
  handlerMs: number;
  /** How the handler is wrapped. */
  wrap: 'none' | 'noop-interceptor' | 'deduplicate';
  store?: 'memory' | 'redis';
  server: 'standard' | 'batch';
  redisUrl?: string;
  redisPrefix?: string;
}

/** What a worker reports. */
export interface WorkerResult {
  events: number;
  elapsedMs: number;
  eventsPerSec: number;
}

@Injectable()
class NoopInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle();
  }
}

function buildApp(spec: WorkerCase, done: (result: WorkerResult) => void): Type<unknown> {
  let seen = 0;
  let first = 0;
  const wait = spec.handlerMs;
  const count = (): void => {
    if (seen === 0) first = performance.now();
    if (++seen === spec.events) {
      const elapsedMs = performance.now() - first;
      // n-1 intervals between the first and the last message
      done({ events: seen, elapsedMs, eventsPerSec: ((seen - 1) * 1000) / elapsedMs });
    }
  };
  const noop: MethodDecorator = () => undefined;
  const wrap =
    spec.wrap === 'deduplicate'
      ? Deduplicate()
      : spec.wrap === 'noop-interceptor'
        ? UseInterceptors(NoopInterceptor)
        : noop;

  @Controller()
  class EventsController {
    @EventPattern(spec.topic)
    @wrap
    handle(@Payload() _value: unknown): Promise<void> | void {
      if (wait === 0) return count();
      return new Promise<void>((resolve) =>
        setTimeout(() => {
          count();
          resolve();
        }, wait),
      );
    }
  }

  const imports =
    spec.wrap === 'deduplicate'
      ? [
          DedupModule.forRoot({
            store: spec.store ?? 'memory',
            ttl: 600_000,
            cleanupCron: false,
            ...(spec.store === 'redis'
              ? { redis: { url: spec.redisUrl, keyPrefix: spec.redisPrefix } }
              : {}),
          }),
        ]
      : [];
  @Module({ imports, controllers: [EventsController], providers: [NoopInterceptor] })
  class BenchModule {}
  return BenchModule;
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2]) as WorkerCase;
  let resolveDone!: (r: WorkerResult) => void;
  const finished = new Promise<WorkerResult>((r) => (resolveDone = r));
  const options = {
    client: { clientId: spec.groupId, brokers: [spec.broker] },
    consumer: { groupId: spec.groupId },
    subscribe: { fromBeginning: true },
    postfixId: '',
  };
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(
    buildApp(spec, resolveDone),
    {
      logger: ['error'],
      ...(spec.server === 'batch'
        ? { strategy: new DedupKafkaServer(options) }
        : { transport: Transport.KAFKA, options }),
    },
  );
  await app.listen();
  const result = await finished;
  process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
  await app.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
