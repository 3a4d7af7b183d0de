import { DEDUP_METRICS } from '@nest-resilience/kafka-dedup';
import { metricValue } from './support/metrics';
import { inboxFailures, startInboxConsumer } from './support/inbox-app';
import {
  inboxStream,
  InboxConsumerProcess,
  produceStream,
  sideEffectCounts,
} from './support/inbox-fixture';
import { useInboxSuite, useRestartablePostgres } from './support/inbox-suite';
import { createTopic, KAFKA_BROKER, uniqueTopic, waitForGroup } from './support/kcat';
import { sleep, waitFor } from './support/wait';

/** Events per crash stream (INBOX_E2E_EVENTS overrides it, e.g. for a longer run by hand). */
const EVENTS = Number(process.env.INBOX_E2E_EVENTS ?? 20_000);
const PARTITIONS = 3;

describe('kafka-dedup PostgreSQL inbox under crashes (real Kafka, real PostgreSQL)', () => {
  const suite = useInboxSuite({
    drainMs: 180_000,
    drainPollMs: 500,
    killMs: 240_000,
    killPollMs: 25,
  });
  const { processes, apps, drained, killRepeatedly } = suite;

  it(`writes every id exactly once though the consumer is SIGKILLed 6 times during ${EVENTS} events (25% copies)`, async () => {
    const started = Date.now();
    const topic = uniqueTopic('inbox-kill');
    await createTopic(topic, PARTITIONS);
    const stream = inboxStream(EVENTS, PARTITIONS);
    await produceStream(topic, stream.messages);
    const group = `${topic}-g`;
    const consumer = new InboxConsumerProcess({ topic, group, pgUrl: suite.db.url, mode: 'pg' });
    processes.push(consumer);
    await consumer.start();
    const kills = await killRepeatedly(consumer, 6, Math.floor(stream.ids.length / 8));
    expect(await drained(group, topic, stream)).toBe(true);
    const counts = await sideEffectCounts(suite.pool);
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
    const spec = { topic, group, pgUrl: suite.db.url, mode: 'drizzle' as const };
    const [a, b] = [new InboxConsumerProcess(spec), new InboxConsumerProcess(spec)];
    processes.push(a, b);
    await Promise.all([a.start(), b.start()]);
    expect(await waitForGroup(`${group}-server`, 2)).toBe(true);
    await produceStream(topic, stream.messages);
    const kills = await killRepeatedly(a, 3, Math.floor(stream.ids.length / 5));
    expect(await drained(group, topic, stream)).toBe(true);
    const counts = await sideEffectCounts(suite.pool);
    const byPid = await suite.pool.query('SELECT count(DISTINCT pid) AS n FROM side_effects');
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
        pgUrl: suite.db.url,
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
    const failedRows = await suite.pool.query(
      'SELECT event_id, count(*)::int AS n FROM side_effects WHERE event_id = ANY($1) GROUP BY event_id ORDER BY event_id',
      [failing],
    );
    expect(failedRows.rows).toEqual([...failing].sort().map((id) => ({ event_id: id, n: 1 })));
    expect(await sideEffectCounts(suite.pool)).toEqual({
      rows: stream.ids.length,
      distinct: stream.ids.length,
      duplicated: 0,
    });
  }, 120_000);

  describe('when PostgreSQL restarts mid-stream', () => {
    const restartable = useRestartablePostgres(25432);
    const { server } = restartable;

    it.each(['pg', 'drizzle'] as const)(
      'loses nothing and duplicates nothing (%s)',
      async (mode) => {
        await restartable.pool.query('TRUNCATE side_effects');
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
            async () => (await sideEffectCounts(restartable.pool)).rows >= 1_200,
            60_000,
            20,
          ),
        ).toBe(true);
        await server.stop(); // immediate shutdown: in-flight transactions are lost
        await sleep(2_000);
        await server.start();
        expect(await drained(`${topic}-g`, topic, stream, restartable.pool)).toBe(true);
        const counts = await sideEffectCounts(restartable.pool);
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
