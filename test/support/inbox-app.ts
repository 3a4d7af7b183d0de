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
import {
  DedupKafkaServer,
  DedupModule,
  Deduplicate,
  InboxTransaction,
} from '@nest-resilience/kafka-dedup';

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
  /** Batch mode (`DedupKafkaServer`) with `postgres.batchTransactions` and these caps. */
  batch?: { maxMessages?: number; maxMs?: number };
  /** Ids whose handler always throws after its write. */
  alwaysFail?: string[];
  /**
   * `pg` mode: each event also adds 1 to the rows 'a' and 'b' of `hot_rows`, in the order a, b on
   * even partitions and b, a on odd ones (two partitions' transactions deadlock).
   */
  hotRows?: boolean;
  /** Handler time per event after its write, ms. */
  delayMs?: number;
}

/** Rows two partitions update in opposite orders (`hotRows`). */
export const HOT_ROWS_DDL =
  "CREATE TABLE IF NOT EXISTS hot_rows (k text PRIMARY KEY, n bigint NOT NULL); INSERT INTO hot_rows VALUES ('a', 0), ('b', 0) ON CONFLICT DO NOTHING";

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
  const failOnce = failOnceAfterWrite(spec.failOnce ?? [], inboxFailures);
  const alwaysFail = new Set(spec.alwaysFail ?? []);
  const maybeFail = async (id: string): Promise<void> => {
    if (spec.delayMs) await new Promise((resolve) => setTimeout(resolve, spec.delayMs));
    failOnce(id);
    if (alwaysFail.has(id)) throw new Error(`handler always fails for ${id}`);
  };

  @Injectable()
  class PgWriter {
    constructor(@Inject(InboxTransaction) private readonly inbox: InboxTransaction) {}
    async write(id: string, partition: number): Promise<void> {
      const client = this.inbox.client<PoolClient>();
      await client.query('INSERT INTO side_effects (event_id, pid) VALUES ($1, $2)', [
        id,
        process.pid,
      ]);
      if (spec.hotRows) {
        const [first, second] = partition % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
        await client.query('UPDATE hot_rows SET n = n + 1 WHERE k = $1', [first]);
        // Leaves the other partition's transaction time to take the second row first.
        await new Promise((resolve) => setTimeout(resolve, 5));
        await client.query('UPDATE hot_rows SET n = n + 1 WHERE k = $1', [second]);
      }
      await maybeFail(id);
    }
  }

  @Injectable()
  class DrizzleWriter {
    constructor(
      @Inject(TransactionHost)
      private readonly txHost: TransactionHost<TransactionalAdapterDrizzleOrm<Db>>,
    ) {}
    @Transactional()
    async write(id: string, _partition: number): Promise<void> {
      await this.txHost.tx.insert(sideEffects).values({ eventId: id, pid: process.pid });
      await maybeFail(id);
    }
  }

  const Writer = spec.mode === 'pg' ? PgWriter : DrizzleWriter;

  @Controller()
  class EventsController {
    constructor(@Inject(Writer) private readonly writer: PgWriter | DrizzleWriter) {}

    @EventPattern<string>(spec.topic)
    @Deduplicate()
    async handle(@Payload() value: unknown, @Ctx() ctx: KafkaContext): Promise<void> {
      await this.writer.write((value as EventValue).id, ctx.getPartition());
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
          ...(spec.batch
            ? {
                batchTransactions: true,
                batchMaxMessages: spec.batch.maxMessages,
                batchMaxMs: spec.batch.maxMs,
              }
            : {}),
        },
      }),
    ],
    controllers: [EventsController],
    providers: [Writer],
  })
  class InboxConsumerModule {}

  const options = {
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
  };
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(InboxConsumerModule, {
    logger: ['error'],
    ...(spec.batch
      ? { strategy: new DedupKafkaServer(options) }
      : { transport: Transport.KAFKA, options }),
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
