import { Controller, Injectable, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, Payload, Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { pgTable, serial, text } from 'drizzle-orm/pg-core';
import { register } from 'prom-client';
import {
  DEDUP_METRICS,
  DedupKafkaServer,
  DedupModule,
  Deduplicate,
  InboxTransaction,
} from '@nest-resilience/kafka-dedup';
import { failOnceAfterWrite } from './support/inbox-app';
import { groupLag, inboxStream, produceStream } from './support/inbox-fixture';
import { createTopic, KAFKA_BROKER, uniqueTopic } from './support/kcat';
import { metricValue } from './support/metrics';
import { waitFor } from './support/wait';

const PARTITIONS = 3;

const effects = pgTable('side_effects', {
  seq: serial('seq').primaryKey(),
  eventId: text('event_id').notNull(),
});

describe('kafka-dedup inbox store on PGlite (real Kafka, embedded PGlite)', () => {
  let pglite: PGlite;
  let app: INestMicroservice | undefined;
  const failures = { count: 0 };

  beforeAll(async () => {
    pglite = new PGlite();
    await pglite.exec('CREATE TABLE side_effects (seq serial PRIMARY KEY, event_id text NOT NULL)');
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await pglite.close();
  });

  /** A Nest Kafka consumer whose handler writes its row through Drizzle on the inbox transaction. */
  async function startConsumer(
    topic: string,
    failOnce: Set<string>,
    batchTransactions: boolean,
  ): Promise<INestMicroservice> {
    const maybeFail = failOnceAfterWrite(failOnce, failures);

    @Injectable()
    class Writer {
      constructor(private readonly inbox: InboxTransaction) {}
      async write(id: string): Promise<void> {
        // drizzle-orm/pglite over PGlite's Transaction: its statements run in the inbox transaction.
        const tx = drizzle(this.inbox.client<Transaction>() as unknown as PGlite);
        await tx.insert(effects).values({ eventId: id });
        maybeFail(id);
      }
    }

    @Controller()
    class EventsController {
      constructor(private readonly writer: Writer) {}
      @EventPattern(topic)
      @Deduplicate()
      async handle(@Payload() value: unknown): Promise<void> {
        await this.writer.write((value as { id: string }).id);
      }
    }

    @Module({
      imports: [
        DedupModule.forRoot({
          store: 'postgres',
          cleanupCron: false,
          postgres: { pglite, partitionsConsumedConcurrently: PARTITIONS, batchTransactions },
        }),
      ],
      controllers: [EventsController],
      providers: [Writer, InboxTransaction],
    })
    class PgliteInboxModule {}

    const options = {
      client: { clientId: `${topic}-g`, brokers: [KAFKA_BROKER] },
      consumer: {
        groupId: `${topic}-g`,
        sessionTimeout: 6_000,
        heartbeatInterval: 500,
        retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1_000 },
      },
      subscribe: { fromBeginning: true },
      run: { partitionsConsumedConcurrently: PARTITIONS },
    };
    const consumer = await NestFactory.createMicroservice<MicroserviceOptions>(PgliteInboxModule, {
      logger: ['error'],
      // Batch transactions run in batch mode: one PGlite transaction per chunk of a batch.
      ...(batchTransactions
        ? { strategy: new DedupKafkaServer(options) }
        : { transport: Transport.KAFKA, options }),
    });
    await consumer.listen();
    return consumer;
  }

  it.each([
    ['one transaction per message', false],
    ['batch transactions (batch mode)', true],
  ])(
    '%s: processes every id once with its row in the same transaction; a handler that threw after its write leaves no row and its redelivery is processed',
    async (_name, batchTransactions) => {
      register.clear();
      await app?.close();
      app = undefined;
      failures.count = 0;
      await pglite.exec('TRUNCATE side_effects; DROP TABLE IF EXISTS kafka_dedup_inbox');
      const topic = uniqueTopic('pglite-inbox');
      await createTopic(topic, PARTITIONS);
      const stream = inboxStream(600, PARTITIONS);
      const failing = [stream.ids[5], stream.ids[200]];
      app = await startConsumer(topic, new Set(failing), batchTransactions);
      await produceStream(topic, stream.messages);

      const drained = await waitFor(
        async () => {
          const { rows } = await pglite.query<{ n: number }>(
            'SELECT count(DISTINCT event_id)::int AS n FROM side_effects',
          );
          return (
            rows[0].n === stream.ids.length && (await groupLag(`${topic}-g-server`, topic)) === 0
          );
        },
        90_000,
        250,
      );
      expect(drained).toBe(true);

      const counts = await pglite.query<{ rows: number; distinct: number }>(
        'SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS distinct FROM side_effects',
      );
      expect(counts.rows[0]).toEqual({ rows: stream.ids.length, distinct: stream.ids.length });
      // Each failing id threw once after inserting its row: that row was rolled back with the claim.
      expect(failures.count).toBe(2);
      const failedRows = await pglite.query<{ event_id: string; n: number }>(
        'SELECT event_id, count(*)::int AS n FROM side_effects WHERE event_id = ANY($1) GROUP BY event_id ORDER BY event_id',
        [failing],
      );
      expect(failedRows.rows).toEqual([...failing].sort().map((id) => ({ event_id: id, n: 1 })));
      // The inbox holds exactly the processed ids, committed with their rows.
      const inbox = await pglite.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM kafka_dedup_inbox WHERE token IS NULL',
      );
      expect(inbox.rows[0].n).toBe(stream.ids.length);
      const labels = { topic, store: 'postgres' };
      expect(await metricValue(DEDUP_METRICS.processed, labels)).toBe(stream.ids.length);
      expect(await metricValue(DEDUP_METRICS.deduplicated, labels)).toBe(stream.copies);
    },
    120_000,
  );
});
