import type { INestMicroservice } from '@nestjs/common';
import { Pool } from 'pg';
import { register } from 'prom-client';
import { DEDUP_METRICS } from '@nest-resilience/kafka-dedup';
import { metricValue } from './support/metrics';
import { inboxFailures, SIDE_EFFECTS_DDL, startInboxConsumer } from './support/inbox-app';
import {
  buildInboxConsumer,
  groupLag,
  inboxStream,
  InboxConsumerProcess,
  produceStream,
  sideEffectCounts,
  type InboxStream,
} from './support/inbox-fixture';
import { createTopic, KAFKA_BROKER, uniqueTopic, waitForGroup } from './support/kcat';
import { createTestDatabase, PrivatePostgres, type TestDatabase } from './support/postgres-server';
import { sleep, waitFor } from './support/wait';

/** Events per crash stream (INBOX_E2E_EVENTS overrides it, e.g. for a longer run by hand). */
const EVENTS = Number(process.env.INBOX_E2E_EVENTS ?? 20_000);
const PARTITIONS = 3;

describe('kafka-dedup PostgreSQL inbox under crashes (real Kafka, real PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: Pool;
  const processes: InboxConsumerProcess[] = [];
  const apps: INestMicroservice[] = [];

  beforeAll(async () => {
    buildInboxConsumer();
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 2 });
    await pool.query(SIDE_EFFECTS_DDL);
  }, 240_000);
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });
  beforeEach(async () => {
    register.clear();
    await pool.query('TRUNCATE side_effects');
  });
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.kill()));
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });

  /** Waits until every id has its row and the group committed the whole topic. */
  async function drained(group: string, topic: string, stream: InboxStream, target = pool) {
    return waitFor(
      async () =>
        (await sideEffectCounts(target)).distinct === stream.ids.length &&
        (await groupLag(`${group}-server`, topic)) === 0,
      180_000,
      500,
    );
  }

  /** SIGKILLs `victim` each time another `step` rows are written, restarting it at once. */
  async function killRepeatedly(victim: InboxConsumerProcess, kills: number, step: number) {
    let done = 0;
    const deadline = Date.now() + 240_000;
    while (done < kills && Date.now() < deadline) {
      const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM side_effects');
      if (Number(rows[0].n) >= (done + 1) * step) {
        await victim.kill();
        done++;
        await victim.start();
      } else {
        await sleep(25);
      }
    }
    return done;
  }

  it(`writes every id exactly once though the consumer is SIGKILLed 6 times during ${EVENTS} events (25% copies)`, async () => {
    const started = Date.now();
    const topic = uniqueTopic('inbox-kill');
    await createTopic(topic, PARTITIONS);
    const stream = inboxStream(EVENTS, PARTITIONS);
    await produceStream(topic, stream.messages);
    const group = `${topic}-g`;
    const consumer = new InboxConsumerProcess({ topic, group, pgUrl: db.url, mode: 'pg' });
    processes.push(consumer);
    await consumer.start();
    const kills = await killRepeatedly(consumer, 6, Math.floor(stream.ids.length / 8));
    expect(await drained(group, topic, stream)).toBe(true);
    const counts = await sideEffectCounts(pool);
    console.log(
      `[inbox e2e] SIGKILL x${kills}: ${stream.messages.length} events, ${stream.copies} copies, ` +
        `${stream.ids.length} ids -> ${counts.rows} rows, ${counts.duplicated} duplicated, ` +
        `${stream.ids.length - counts.distinct} lost, ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(kills).toBe(6);
    expect(counts).toEqual({ rows: stream.ids.length, distinct: stream.ids.length, duplicated: 0 });
  }, 420_000);

  it('writes every id exactly once with two consumer processes in one group while one is SIGKILLed (Drizzle, @Transactional)', async () => {
    const started = Date.now();
    const topic = uniqueTopic('inbox-pair');
    await createTopic(topic, PARTITIONS);
    const stream = inboxStream(Math.floor(EVENTS / 2), PARTITIONS);
    const group = `${topic}-g`;
    const spec = { topic, group, pgUrl: db.url, mode: 'drizzle' as const };
    const [a, b] = [new InboxConsumerProcess(spec), new InboxConsumerProcess(spec)];
    processes.push(a, b);
    await Promise.all([a.start(), b.start()]);
    expect(await waitForGroup(`${group}-server`, 2)).toBe(true);
    await produceStream(topic, stream.messages);
    const kills = await killRepeatedly(a, 3, Math.floor(stream.ids.length / 5));
    expect(await drained(group, topic, stream)).toBe(true);
    const counts = await sideEffectCounts(pool);
    const byPid = await pool.query('SELECT count(DISTINCT pid) AS n FROM side_effects');
    console.log(
      `[inbox e2e] two consumers, one SIGKILLed x${kills}: ${stream.messages.length} events, ` +
        `${stream.ids.length} ids -> ${counts.rows} rows, ${counts.duplicated} duplicated, ` +
        `${stream.ids.length - counts.distinct} lost, ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(kills).toBe(3);
    expect(Number(byPid.rows[0].n)).toBeGreaterThanOrEqual(3); // b and at least two lives of a wrote
    expect(counts).toEqual({ rows: stream.ids.length, distinct: stream.ids.length, duplicated: 0 });
  }, 420_000);

  it('a handler that throws after its write leaves no row; the redelivery is processed once', async () => {
    const topic = uniqueTopic('inbox-throw');
    await createTopic(topic, 1);
    const stream = inboxStream(40, 1, 0.25);
    const failing = [stream.ids[3], stream.ids[17]];
    inboxFailures.count = 0;
    apps.push(
      await startInboxConsumer({
        broker: KAFKA_BROKER,
        topic,
        group: `${topic}-g`,
        pgUrl: db.url,
        mode: 'pg',
        failOnce: failing,
      }),
    );
    await produceStream(topic, stream.messages);
    expect(await drained(`${topic}-g`, topic, stream)).toBe(true);
    expect(inboxFailures.count).toBe(2); // each failing id threw once after writing its row
    const labels = { topic, store: 'postgres' };
    expect(await metricValue(DEDUP_METRICS.processed, labels)).toBe(stream.ids.length);
    expect(await metricValue(DEDUP_METRICS.deduplicated, labels)).toBe(stream.copies);
    const failedRows = await pool.query(
      'SELECT event_id, count(*)::int AS n FROM side_effects WHERE event_id = ANY($1) GROUP BY event_id ORDER BY event_id',
      [failing],
    );
    expect(failedRows.rows).toEqual([...failing].sort().map((id) => ({ event_id: id, n: 1 })));
    expect(await sideEffectCounts(pool)).toEqual({
      rows: stream.ids.length,
      distinct: stream.ids.length,
      duplicated: 0,
    });
  }, 120_000);

  describe('when PostgreSQL restarts mid-stream', () => {
    const server = new PrivatePostgres(25432 + Math.floor(Math.random() * 1000));
    let privatePool: Pool;

    beforeAll(async () => {
      await server.start();
      privatePool = new Pool({ connectionString: server.url(), max: 2 });
      privatePool.on('error', () => undefined);
      await privatePool.query(SIDE_EFFECTS_DDL);
    }, 60_000);
    afterAll(async () => {
      await privatePool.end().catch(() => undefined);
      await server.destroy();
    });

    it.each(['pg', 'drizzle'] as const)(
      'loses nothing and duplicates nothing (%s)',
      async (mode) => {
        await privatePool.query('TRUNCATE side_effects');
        const topic = uniqueTopic(`inbox-pg-restart-${mode}`);
        await createTopic(topic, PARTITIONS);
        const stream = inboxStream(4_000, PARTITIONS);
        apps.push(
          await startInboxConsumer({
            broker: KAFKA_BROKER,
            topic,
            group: `${topic}-g`,
            pgUrl: server.url(),
            mode,
          }),
        );
        await produceStream(topic, stream.messages);
        expect(
          await waitFor(
            async () => (await sideEffectCounts(privatePool)).rows >= 1_200,
            60_000,
            20,
          ),
        ).toBe(true);
        await server.stop(); // immediate shutdown: in-flight transactions are lost
        await sleep(2_000);
        await server.start();
        expect(await drained(`${topic}-g`, topic, stream, privatePool)).toBe(true);
        const counts = await sideEffectCounts(privatePool);
        console.log(
          `[inbox e2e] PostgreSQL restart (${mode}): ${stream.messages.length} events, ${stream.ids.length} ids -> ` +
            `${counts.rows} rows, ${counts.duplicated} duplicated, ${stream.ids.length - counts.distinct} lost`,
        );
        expect(counts).toEqual({
          rows: stream.ids.length,
          distinct: stream.ids.length,
          duplicated: 0,
        });
        const labels = { topic, store: 'postgres' };
        expect(await metricValue(DEDUP_METRICS.storeErrors, labels)).toBeGreaterThan(0);
        expect(await metricValue(DEDUP_METRICS.deduplicated, labels)).toBeGreaterThanOrEqual(
          stream.copies,
        );
      },
      240_000,
    );
  });
});
