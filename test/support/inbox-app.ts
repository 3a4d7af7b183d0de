import { Controller, Inject, Injectable, type INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  Ctx,
  EventPattern,
  type KafkaContext,
  type MicroserviceOptions,
  Payload,
  Transport,
} from '@nestjs/microservices';
import { ClsModule } from 'nestjs-cls';
import { ClsPluginTransactional, Transactional, TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterDrizzleOrm } from '@nestjs-cls/transactional-adapter-drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { integer, pgTable, bigserial, text } from 'drizzle-orm/pg-core';
import { Pool, type PoolClient } from 'pg';
import { DedupModule, Deduplicate, InboxTransaction } from '@nest-resilience/kafka-dedup';

/** The side effects table: no unique key, so a duplicate side effect shows as a second row. */
export const SIDE_EFFECTS_DDL =
  'CREATE TABLE IF NOT EXISTS side_effects (seq bigserial PRIMARY KEY, event_id text NOT NULL, pid integer NOT NULL)';

const sideEffects = pgTable('side_effects', {
  seq: bigserial('seq', { mode: 'number' }).primaryKey(),
  eventId: text('event_id').notNull(),
  pid: integer('pid').notNull(),
});

/**
 * A handler step that throws the first time it sees one of `ids` (after the handler's write, so
 * the test sees that write rolled back), counting the throws in `counter`.
 */
export function failOnceAfterWrite(
  ids: Iterable<string>,
  counter: { count: number },
): (id: string) => void {
  const pending = new Set(ids);
  return (id) => {
    if (!pending.delete(id)) return;
    counter.count++;
    throw new Error(`handler failed for ${id} after its write`);
  };
}

/** Handler attempts that threw (failOnce) in this process, for in-process tests. */
export const inboxFailures = { count: 0 };

/** Settings of one inbox consumer (in this process or in a child, see inbox-consumer.main.ts). */
export interface InboxConsumerSpec {
  broker: string;
  topic: string;
  group: string;
  pgUrl: string;
  /** `pg`: the handler writes with the inbox transaction's client; `drizzle`: a `@Transactional()` service. */
  mode: 'pg' | 'drizzle';
  /** Ids whose first attempt in this process writes its row, then throws. */
  failOnce?: string[];
  partitionsConsumedConcurrently?: number;
}

interface EventValue {
  id: string;
}

const DRIZZLE = Symbol('DRIZZLE');
type Db = NodePgDatabase<Record<string, never>>;

/**
 * Boots a Nest Kafka microservice whose handler writes one row per event in the inbox transaction
 * of `DedupModule.forRoot({ store: 'postgres' })`.
 */
export async function startInboxConsumer(spec: InboxConsumerSpec): Promise<INestMicroservice> {
  const pool = new Pool({
    connectionString: spec.pgUrl,
    max: (spec.partitionsConsumedConcurrently ?? 1) + 2,
    connectionTimeoutMillis: 2_000,
  });
  pool.on('error', () => undefined); // idle clients dropped by a PostgreSQL restart
  const maybeFail = failOnceAfterWrite(spec.failOnce ?? [], inboxFailures);

  @Injectable()
  class PgWriter {
    constructor(@Inject(InboxTransaction) private readonly inbox: InboxTransaction) {}
    async write(id: string): Promise<void> {
      await this.inbox
        .client<PoolClient>()
        .query('INSERT INTO side_effects (event_id, pid) VALUES ($1, $2)', [id, process.pid]);
      maybeFail(id);
    }
  }

  @Injectable()
  class DrizzleWriter {
    constructor(
      @Inject(TransactionHost)
      private readonly txHost: TransactionHost<TransactionalAdapterDrizzleOrm<Db>>,
    ) {}
    @Transactional()
    async write(id: string): Promise<void> {
      await this.txHost.tx.insert(sideEffects).values({ eventId: id, pid: process.pid });
      maybeFail(id);
    }
  }

  const Writer = spec.mode === 'pg' ? PgWriter : DrizzleWriter;

  @Controller()
  class EventsController {
    constructor(@Inject(Writer) private readonly writer: PgWriter | DrizzleWriter) {}

    @EventPattern<string>(spec.topic)
    @Deduplicate()
    async handle(@Payload() value: unknown, @Ctx() _ctx: KafkaContext): Promise<void> {
      await this.writer.write((value as EventValue).id);
    }
  }

  @Module({ providers: [{ provide: DRIZZLE, useValue: drizzle(pool) }], exports: [DRIZZLE] })
  class DrizzleModule {}

  const drizzleImports =
    spec.mode === 'drizzle'
      ? [
          ClsModule.forRoot({
            plugins: [
              new ClsPluginTransactional({
                imports: [DrizzleModule],
                adapter: new TransactionalAdapterDrizzleOrm({ drizzleInstanceToken: DRIZZLE }),
              }),
            ],
          }),
        ]
      : [];

  @Module({
    imports: [
      ...drizzleImports,
      DedupModule.forRoot({
        store: 'postgres',
        cleanupCron: false,
        postgres: {
          pool,
          transactionHost: spec.mode === 'drizzle',
          partitionsConsumedConcurrently: spec.partitionsConsumedConcurrently ?? 1,
        },
      }),
    ],
    controllers: [EventsController],
    providers: [Writer],
  })
  class InboxConsumerModule {}

  const app = await NestFactory.createMicroservice<MicroserviceOptions>(InboxConsumerModule, {
    transport: Transport.KAFKA,
    logger: ['error'],
    options: {
      client: {
        clientId: spec.group,
        brokers: [spec.broker],
        retry: { retries: 8, initialRetryTime: 100 },
      },
      consumer: {
        groupId: spec.group,
        sessionTimeout: 6_000,
        rebalanceTimeout: 10_000,
        heartbeatInterval: 500,
        retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1_000 },
      },
      subscribe: { fromBeginning: true },
      run: { partitionsConsumedConcurrently: spec.partitionsConsumedConcurrently ?? 1 },
    },
  });
  app.enableShutdownHooks();
  await app.listen();
  const close = app.close.bind(app);
  app.close = async () => {
    await close();
    await pool.end();
  };
  return app;
}
