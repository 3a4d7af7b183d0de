import { Redis } from 'ioredis';
import { cdcStream } from '../scripts/demo/cdc-events';
import { createTopic, kcatProduce, KAFKA_BROKER, uniqueTopic, waitForGroup } from './support/kcat';
import { REDIS_URL } from './support/redis-server';
import { PrivateDatabase } from './support/user-service-postgres';
import { metricSum, waitForCaughtUp } from './support/user-service-kafka';
import { AppProcess, portBlock, USER_SERVICE_READY } from './support/user-service-processes';
import { waitFor } from './support/wait';

/**
 * Two user-service processes in one consumer group sharing the Redis dedup store and one
 * PostgreSQL database, as the compose file runs them — one on the Redis layout `dual`, one on `v2`
 * (`KAFKA_DEDUP_REDIS_LAYOUT`): the second step of a layout upgrade, mid-deployment.
 */
describe('user-service: two instances in one group, Redis dedup store (layouts dual and v2), PostgreSQL (real processes)', () => {
  const topic = uniqueTopic('cdc.users.redis');
  const group = `${topic}-g`;
  const database = new PrivateDatabase();
  const ports = portBlock(4);
  const instances = [0, 1].map(
    (i) =>
      new AppProcess('user-service', {
        KAFKA_BROKERS: KAFKA_BROKER,
        KAFKA_GROUP_ID: group,
        CDC_TOPIC: topic,
        KAFKA_DEDUP_STORE: 'redis',
        KAFKA_DEDUP_REDIS_URL: REDIS_URL,
        KAFKA_DEDUP_REDIS_LAYOUT: i === 0 ? 'dual' : 'v2',
        DATABASE_URL: database.url,
        HTTP_PORT: String(ports[i * 2]),
        GRPC_URL: `127.0.0.1:${ports[i * 2 + 1]}`,
        AUTH_GRPC_URLS: '127.0.0.1:1', // not used here
      }),
  );
  let unique = 0;

  const metrics = async (i: number): Promise<string> =>
    (await fetch(`http://127.0.0.1:${ports[i * 2]}/metrics`)).text();
  const deduplicated = async (): Promise<number> =>
    metricSum(await metrics(0), 'kafka_event_deduplicated_total', { topic }) +
    metricSum(await metrics(1), 'kafka_event_deduplicated_total', { topic });

  async function settle(expectedUnique: number): Promise<{ rows: number; distinct: number }> {
    await waitFor(
      async () => (await database.eventCounts()).distinct >= expectedUnique,
      45_000,
      200,
    );
    expect(await waitForCaughtUp(`${group}-server`, topic)).toBe(true);
    return database.eventCounts();
  }

  beforeAll(async () => {
    await Promise.all([database.create(), createTopic(topic, 4)]);
    // the first instance migrates; the second waits for its advisory lock, then finds nothing to do
    await Promise.all(instances.map((p) => p.start(USER_SERVICE_READY)));
    expect(await waitForGroup(`${group}-server`, 2)).toBe(true);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(instances.map((p) => p.stop('SIGKILL')));
    await database.drop();
  }, 60_000);

  /**
   * Members in the `v2` groups of the store's default prefix and the default 1 h window (3,670,016
   * ms buckets) of the bucket current when the test began and the next one: groups of those live
   * at least a window more, so none expires between two counts (an earlier run's groups of older
   * buckets may, on any other ring position).
   */
  const BUCKET_MS = 3_670_016;
  const firstBucket = Math.floor(Date.now() / BUCKET_MS);
  async function groupMembers(): Promise<number> {
    const redis = new Redis(REDIS_URL);
    try {
      const groups: string[] = [];
      for (const bucket of [firstBucket, firstBucket + 1])
        groups.push(...(await redis.keys(`kafka-dedup:v2:${BUCKET_MS}:${bucket % 4}:*`)));
      const pipeline = redis.pipeline();
      for (const group of groups) pipeline.scard(group);
      const counts = (await pipeline.exec()) ?? [];
      return counts.reduce((sum, [, n]) => sum + Number(n) - 1, 0); // each group's sentinel
    } finally {
      redis.disconnect();
    }
  }

  it('writes one user_events row per unique change when both instances consume with redelivered copies', async () => {
    const before = await groupMembers();
    const stream = cdcStream({ changes: 400, idPrefix: 'two', lsnBase: 10_000_000, seed: 11 });
    kcatProduce(topic, stream.records);
    unique += stream.unique;
    expect(await settle(unique)).toEqual({ rows: unique, distinct: unique });
    expect(await deduplicated()).toBe(stream.duplicates);
    // The layouts reached the store: every processed id is a fingerprint in a group (dual adds it
    // at commit, v2 at claim), as well as dual's v1 key.
    expect((await groupMembers()) - before).toBeGreaterThanOrEqual(stream.unique);
  });

  it('stops gracefully on SIGTERM mid-stream, and after the restart skips copies of what it processed before', async () => {
    const stream = cdcStream({ changes: 600, idPrefix: 'restart', lsnBase: 20_000_000, seed: 5 });
    const half = Math.floor(stream.records.length / 2);
    kcatProduce(topic, stream.records.slice(0, half));
    const exit = await instances[0].stop('SIGTERM');
    // ended by its own re-raised signal, after the hooks, not killed
    expect({ exit, log: exit === 'SIGTERM' ? '' : instances[0].tail(8) }).toEqual({
      exit: 'SIGTERM',
      log: '',
    });
    // in order: the consumer leaves (in-flight messages done, offsets committed), then the pool closes
    expect(instances[0].output).toMatch(/\[Consumer\] Stopped[\s\S]*postgres closed \(SIGTERM\)/);
    kcatProduce(topic, stream.records.slice(half));
    unique += stream.unique;
    await instances[0].start(USER_SERVICE_READY);
    expect(await waitForGroup(`${group}-server`, 2)).toBe(true);
    expect(await settle(unique)).toEqual({ rows: unique, distinct: unique });

    // An unclean connector restart re-emits everything of the first test: the restarted
    // instance has no memory of it, the Redis store does.
    const before = await deduplicated();
    const replay = cdcStream({ changes: 400, idPrefix: 'two', lsnBase: 10_000_000, seed: 11 });
    const originals = [...new Map(replay.records.map((r) => [r.value, r])).values()];
    kcatProduce(topic, originals);
    expect(await waitForCaughtUp(`${group}-server`, topic)).toBe(true);
    expect(await database.eventCounts()).toEqual({ rows: unique, distinct: unique });
    expect((await deduplicated()) - before).toBe(originals.length);
  });
});
