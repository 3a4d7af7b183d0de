import { DEDUP_METRICS } from '@nest-resilience/kafka-dedup';
import { metricValue } from './support/metrics';
import {
  HOT_ROWS_DDL,
  inboxFailures,
  startInboxConsumer,
  type InboxConsumerSpec,
} from './support/inbox-app';
import {
  inboxStream,
  InboxConsumerProcess,
  produceStream,
  sideEffectCounts,
} from './support/inbox-fixture';
import { useInboxSuite, useRestartablePostgres } from './support/inbox-suite';
import { createTopic, KAFKA_BROKER, uniqueTopic, waitForGroup } from './support/kcat';
import { sleep, waitFor } from './support/wait';

/** CI size by default; INBOX_BATCH_E2E_FULL=1 runs the sizes of the issue (20,000 events, 6 kills). */
const FULL = process.env.INBOX_BATCH_E2E_FULL === '1';
const EVENTS = FULL ? 20_000 : 4_000;
const KILLS = FULL ? 6 : 3;
const PAIR_KILLS = FULL ? 3 : 2;
const PARTITIONS = 3;
/** Handler time per event in the crash tests: the kills land mid-stream, not after it. */
const DELAY_MS = 1;
const BATCH = { maxMessages: 200, maxMs: 1_000 };

describe('kafka-dedup inbox in batch transactions (real Kafka, real PostgreSQL)', () => {
  const suite = useInboxSuite({
    database: 'inbox_batch_e2e',
    ddl: [HOT_ROWS_DDL],
    drainMs: 120_000,
    drainPollMs: 250,
    killMs: 180_000,
    killPollMs: 20,
  });
  const { processes, apps, drained, killRepeatedly } = suite;

  function inProcess(
    spec: Omit<InboxConsumerSpec, 'broker' | 'pgUrl' | 'mode'>,
    pgUrl = suite.db.url,
  ) {
    return startInboxConsumer({ broker: KAFKA_BROKER, pgUrl, mode: 'pg', batch: BATCH, ...spec });
  }

  it(`writes every id exactly once though the consumer is SIGKILLed ${KILLS} times during ${EVENTS} events (25% copies)`, async () => {
    const started = Date.now();
    const topic = uniqueTopic('inbox-batch-kill');
    await createTopic(topic, PARTITIONS);
    const stream = inboxStream(EVENTS, PARTITIONS);
    await produceStream(topic, stream.messages);
    const group = `${topic}-g`;
    const consumer = new InboxConsumerProcess({
      topic,
      group,
      pgUrl: suite.db.url,
      mode: 'pg',
      batch: BATCH,
      delayMs: DELAY_MS,
    });
    processes.push(consumer);
    await consumer.start();
    const kills = await killRepeatedly(
      consumer,
      KILLS,
      Math.floor(stream.ids.length / (KILLS + 2)),
    );
    expect(await drained(group, topic, stream)).toBe(true);
    const counts = await sideEffectCounts(suite.pool);
    console.log(
      `[inbox-batch e2e] SIGKILL x${kills}: ${stream.messages.length} events, ${stream.copies} copies, ` +
        `${stream.ids.length} ids -> ${counts.rows} rows, ${counts.duplicated} duplicated, ` +
        `${stream.ids.length - counts.distinct} lost, ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(kills).toBe(KILLS);
    expect(counts).toEqual({ rows: stream.ids.length, distinct: stream.ids.length, duplicated: 0 });
  }, 300_000);

  it('writes every id exactly once with two consumers in one group while one is SIGKILLed (TransactionHost, Drizzle)', async () => {
    const topic = uniqueTopic('inbox-batch-pair');
    await createTopic(topic, PARTITIONS);
    const stream = inboxStream(Math.floor(EVENTS / 2), PARTITIONS);
    const group = `${topic}-g`;
    const spec = {
      topic,
      group,
      pgUrl: suite.db.url,
      mode: 'drizzle' as const,
      batch: BATCH,
      delayMs: DELAY_MS,
    };
    const [a, b] = [new InboxConsumerProcess(spec), new InboxConsumerProcess(spec)];
    processes.push(a, b);
    await Promise.all([a.start(), b.start()]);
    expect(await waitForGroup(`${group}-server`, 2)).toBe(true);
    await produceStream(topic, stream.messages);
    const kills = await killRepeatedly(a, PAIR_KILLS, Math.floor(stream.ids.length / 5));
    expect(await drained(group, topic, stream)).toBe(true);
    const counts = await sideEffectCounts(suite.pool);
    console.log(
      `[inbox-batch e2e] two consumers, one SIGKILLed x${kills}: ${stream.ids.length} ids -> ` +
        `${counts.rows} rows, ${counts.duplicated} duplicated, ${stream.ids.length - counts.distinct} lost`,
    );
    expect(kills).toBe(PAIR_KILLS);
    expect(counts).toEqual({ rows: stream.ids.length, distinct: stream.ids.length, duplicated: 0 });
  }, 300_000);

  it('a handler throwing inside a batch on its first attempt: the messages before it commit, it is redelivered, every id once', async () => {
    const topic = uniqueTopic('inbox-batch-throw');
    await createTopic(topic, 1);
    const stream = inboxStream(400, 1, 0.25);
    // The first position, one inside the first chunk, and two neighbours later on.
    const failing = [stream.ids[0], stream.ids[37], stream.ids[150], stream.ids[151]];
    inboxFailures.count = 0;
    apps.push(await inProcess({ topic, group: `${topic}-g`, failOnce: failing }));
    await produceStream(topic, stream.messages);
    expect(await drained(`${topic}-g`, topic, stream)).toBe(true);
    expect(inboxFailures.count).toBe(failing.length);
    expect(await sideEffectCounts(suite.pool)).toEqual({
      rows: stream.ids.length,
      distinct: stream.ids.length,
      duplicated: 0,
    });
    const labels = { topic, store: 'postgres' };
    expect(await metricValue(DEDUP_METRICS.processed, labels)).toBe(stream.ids.length);
    expect(await metricValue(DEDUP_METRICS.deduplicated, labels)).toBe(stream.copies);
  }, 120_000);

  it('a handler that always throws for one id holds back only its partition; nothing else is lost or repeated', async () => {
    const topic = uniqueTopic('inbox-batch-poison');
    await createTopic(topic, PARTITIONS);
    const stream = inboxStream(900, PARTITIONS, 0);
    const poison = stream.messages[300];
    apps.push(await inProcess({ topic, group: `${topic}-g`, alwaysFail: [poison.id] }));
    await produceStream(topic, stream.messages);
    const others = new Set(
      stream.messages.filter((m) => m.partition !== poison.partition).map((m) => m.id),
    );
    const written = async () =>
      new Set(
        (
          await suite.pool.query<{ event_id: string }>('SELECT event_id FROM side_effects')
        ).rows.map((r) => r.event_id),
      );
    expect(
      await waitFor(
        async () => {
          const w = await written();
          return [...others].every((id) => w.has(id));
        },
        60_000,
        250,
      ),
    ).toBe(true);
    await sleep(1_000);
    const counts = await sideEffectCounts(suite.pool);
    const w = await written();
    expect(w.has(poison.id)).toBe(false);
    expect(counts.duplicated).toBe(0);
    // Its partition stopped at it: the ids before it there are written, none after it.
    const mine = stream.messages.filter((m) => m.partition === poison.partition);
    const at = mine.findIndex((m) => m.id === poison.id);
    expect(mine.slice(0, at).every((m) => w.has(m.id))).toBe(true);
    expect(mine.slice(at + 1).some((m) => w.has(m.id))).toBe(false);
  }, 120_000);

  it('two partitions deadlocking on shared rows: the chunk is redelivered, never half-applied', async () => {
    await suite.pool.query('UPDATE hot_rows SET n = 0');
    const topic = uniqueTopic('inbox-batch-deadlock');
    await createTopic(topic, 2);
    const stream = inboxStream(600, 2, 0);
    const deadlocks = async () =>
      Number(
        (
          await suite.pool.query<{ n: string }>(
            'SELECT deadlocks AS n FROM pg_stat_database WHERE datname = current_database()',
          )
        ).rows[0].n,
      );
    const before = await deadlocks();
    // Both partitions are in the first fetch, so their chunks run at the same time.
    await produceStream(topic, stream.messages);
    const app = await inProcess({
      topic,
      group: `${topic}-g`,
      hotRows: true,
      partitionsConsumedConcurrently: 2,
      batch: { maxMessages: 100, maxMs: 1_000 },
    });
    apps.push(app);
    expect(await drained(`${topic}-g`, topic, stream)).toBe(true);
    await apps.splice(apps.indexOf(app), 1)[0].close(); // its backends report their statistics on exit
    await sleep(500);
    const after = await deadlocks();
    const hot = await suite.pool.query<{ k: string; n: string }>(
      'SELECT k, n FROM hot_rows ORDER BY k',
    );
    console.log(
      `[inbox-batch e2e] deadlocks: ${after - before}, hot rows ${hot.rows.map((r) => `${r.k}=${r.n}`).join(' ')}`,
    );
    expect(await sideEffectCounts(suite.pool)).toEqual({
      rows: stream.ids.length,
      distinct: stream.ids.length,
      duplicated: 0,
    });
    expect(after).toBeGreaterThan(before);
    // Every event added 1 to both rows exactly once: no chunk was half-applied.
    expect(hot.rows.map((r) => Number(r.n))).toEqual([stream.ids.length, stream.ids.length]);
  }, 120_000);

  describe('when PostgreSQL restarts mid-stream', () => {
    const restartable = useRestartablePostgres(26432);
    const { server } = restartable;

    it('loses nothing and duplicates nothing', async () => {
      const topic = uniqueTopic('inbox-batch-pg-restart');
      await createTopic(topic, PARTITIONS);
      const stream = inboxStream(3_000, PARTITIONS);
      apps.push(await inProcess({ topic, group: `${topic}-g`, delayMs: DELAY_MS }, server.url()));
      await produceStream(topic, stream.messages);
      expect(
        await waitFor(
          async () => (await sideEffectCounts(restartable.pool)).rows >= 600,
          60_000,
          20,
        ),
      ).toBe(true);
      await server.stop(); // immediate shutdown: the transaction in flight is lost
      await sleep(1_500);
      await server.start();
      expect(await drained(`${topic}-g`, topic, stream, restartable.pool)).toBe(true);
      expect(await sideEffectCounts(restartable.pool)).toEqual({
        rows: stream.ids.length,
        distinct: stream.ids.length,
        duplicated: 0,
      });
      const labels = { topic, store: 'postgres' };
      expect(await metricValue(DEDUP_METRICS.storeErrors, labels)).toBeGreaterThan(0);
    }, 180_000);
  });
});
