/**
 * One case of `npm run bench:consumer`, in a process of its own (compiled with tsc: Nest's DI needs
 * the decorator metadata tsx does not emit). Boots a Nest Kafka microservice on the real broker,
 * consumes `events` messages already in `topic`, and prints one `BENCH_RESULT {json}` line.
 * The case arrives as JSON in argv[2]; see `WorkerCase`.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
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
import {
  DedupKafkaServer,
  DedupModule,
  Deduplicate,
  getInboxClient,
} from '@nest-resilience/kafka-dedup';
import { Pool } from 'pg';
import { RedisFloorStore, type RedisFloorMode } from './redis-floor.store';

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
  store?: 'memory' | 'redis' | 'postgres';
  server: 'standard' | 'batch';
  redisUrl?: string;
  redisPrefix?: string;
  /** `redis.layout` of the Redis store (its default when undefined). */
  redisLayout?: 'v1' | 'v2' | 'dual';
  /**
   * The handler writes one row to `pgTable` (keyed by the event id) in a transaction: its own (BEGIN, INSERT, COMMIT on a
   * pooled client) without dedup, the inbox transaction with `store: 'postgres'`.
   */
  pgWrites?: boolean;
  pgUrl?: string;
  pgTable?: string;
  /** kafkajs `partitionsConsumedConcurrently`. @default 1 */
  concurrency?: number;
  /** With `server: 'batch'` and `store: 'postgres'`: `postgres.batchTransactions`. */
  batchTransactions?: boolean;
  /** With `store: 'redis'`: a lower-bound instrument instead of the store (`redis-floor.store.ts`). */
  redisFloor?: RedisFloorMode;
}

/** What a worker reports. */
export interface WorkerResult {
  events: number;
  elapsedMs: number;
  eventsPerSec: number;
  /** CPU time of the process (user + system) per timed event (after the warm-up fifth), in µs. */
  cpuMicrosPerEvent: number;
  /** CPU µs/event of each fifth of the events (the first one is the warm-up). */
  cpuByFifth?: number[];
  /** PostgreSQL server CPU per event (whole case), in µs; set by the orchestrator. */
  pgCpuMicrosPerEvent?: number;
  /** Redis server CPU per event (whole case), in µs; set by the orchestrator. */
  redisCpuMicrosPerEvent?: number;
  /**
   * CPU time of the whole machine (every process, all cores: /proc/stat) per timed event, in µs,
   * and the share of the cores busy meanwhile (1 = every core busy all the time). Where the
   * machine is saturated, a case's events/s is bounded by cores ÷ its machine CPU per event.
   */
  machineCpuMicrosPerEvent?: number;
  machineBusy?: number;
}

/** Busy and total jiffies of all cores (/proc/stat); undefined where there is none. */
function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    // user nice system idle iowait irq softirq steal (guest time is already in user and nice)
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line
      .trim()
      .split(/\s+/)
      .slice(1, 9)
      .map((n) => Number(n) || 0);
    const busy = user + nice + system + irq + softirq;
    // Steal (the host ran someone else) is neither busy nor idle here: it counts in the total only.
    return { busy, total: busy + idle + iowait + steal };
  } catch {
    return undefined;
  }
}

@Injectable()
class NoopInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle();
  }
}

function buildApp(
  spec: WorkerCase,
  done: (result: WorkerResult) => void,
  pool?: Pool,
): Type<unknown> {
  let seen = 0;
  let first = 0;
  let firstCpu = process.cpuUsage();
  let firstTicks = machineTicks();
  const wait = spec.handlerMs;
  // The first fifth of the events warms the process up (JIT, connection pools, first fetches):
  // they are consumed but not timed, in every case alike; a long-running consumer lives in the
  // steady state that follows.
  const warmup = Math.max(1, Math.floor(spec.events / 5));
  const fifths: number[] = [];
  let fifthCpu = process.cpuUsage();
  const count = (): void => {
    if (++seen % warmup === 0 && fifths.length < 5) {
      const used = process.cpuUsage(fifthCpu);
      fifths.push(Number(((used.user + used.system) / warmup).toFixed(1)));
      fifthCpu = process.cpuUsage();
    }
    if (seen === warmup) {
      first = performance.now();
      firstCpu = process.cpuUsage();
      firstTicks = machineTicks();
    }
    if (seen === spec.events) {
      const elapsedMs = performance.now() - first;
      const cpu = process.cpuUsage(firstCpu);
      const timed = Math.max(1, seen - warmup);
      const ticks = machineTicks();
      const machine =
        ticks && firstTicks
          ? {
              // USER_HZ is 100 on Linux: a jiffy is 10 ms.
              machineCpuMicrosPerEvent: ((ticks.busy - firstTicks.busy) * 10_000) / timed,
              machineBusy:
                (ticks.busy - firstTicks.busy) / Math.max(1, ticks.total - firstTicks.total),
            }
          : {};
      done({
        ...machine,
        events: seen,
        elapsedMs,
        eventsPerSec: (timed * 1000) / elapsedMs,
        cpuMicrosPerEvent: (cpu.user + cpu.system) / timed,
        cpuByFifth: fifths,
      });
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
    handle(@Payload() value: unknown): Promise<void> | void {
      if (pool) return writeRow(value as { id: string; seq: number }).then(count);
      if (wait === 0) return count();
      return new Promise<void>((resolve) =>
        setTimeout(() => {
          count();
          resolve();
        }, wait),
      );
    }
  }

  const insert = `INSERT INTO "${spec.pgTable}" (id, seq) VALUES ($1, $2)`;
  async function writeRow(event: { id: string; seq: number }): Promise<void> {
    if (spec.store === 'postgres') {
      await getInboxClient().query(insert, [event.id, event.seq]);
      return;
    }
    const client = await pool!.connect();
    try {
      await client.query('BEGIN');
      await client.query(insert, [event.id, event.seq]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  }

  const imports =
    spec.wrap === 'deduplicate'
      ? [
          DedupModule.forRoot({
            store: spec.redisFloor
              ? new RedisFloorStore(spec.redisUrl!, spec.redisPrefix ?? '', spec.redisFloor)
              : (spec.store ?? 'memory'),
            ttl: 600_000,
            cleanupCron: false,
            ...(spec.store === 'redis' && !spec.redisFloor
              ? {
                  redis: {
                    url: spec.redisUrl,
                    keyPrefix: spec.redisPrefix,
                    ...(spec.redisLayout ? { layout: spec.redisLayout } : {}),
                  },
                }
              : {}),
            ...(spec.store === 'postgres'
              ? { postgres: { pool, batchTransactions: spec.batchTransactions } }
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
    run: { partitionsConsumedConcurrently: spec.concurrency ?? 1 },
    postfixId: '',
  };
  let pool: Pool | undefined;
  if (spec.pgWrites) {
    pool = new Pool({ connectionString: spec.pgUrl, max: 4 });
    await pool.query(
      `CREATE TABLE IF NOT EXISTS "${spec.pgTable}" (id text PRIMARY KEY, seq integer NOT NULL)`,
    );
  }
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(
    buildApp(spec, resolveDone, pool),
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
  await pool?.end();
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
