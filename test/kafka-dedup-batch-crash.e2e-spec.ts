import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { DedupChild } from './support/dedup-child';
import { groupLag, inboxStream, produceStream } from './support/inbox-fixture';
import { createTopic, KAFKA_BROKER, uniqueTopic } from './support/kcat';
import { REDIS_URL } from './support/redis-server';
import { sleep, waitFor } from './support/wait';

/** CI size by default; INBOX_BATCH_E2E_FULL=1 runs the 10,000 events. */
const EVENTS = process.env.INBOX_BATCH_E2E_FULL === '1' ? 10_000 : 4_000;
const KILLS = 3;
/** Ids the batch server commits at a time (BATCH_CHUNK): what one crash may repeat at most. */
const CHUNK = 500;

/**
 * Batch mode (`DedupKafkaServer`) on the Redis store, its consumer process SIGKILLed mid-stream:
 * each chunk's ids are committed before the next chunk's handlers run, so a crash repeats at most
 * one chunk of handler calls, and nothing is lost.
 */
describe('kafka-dedup batch mode on Redis under SIGKILL (real processes, Kafka, Redis)', () => {
  const prefix = `kafka-dedup-batch-crash:${Date.now()}:`;
  const dir = mkdtempSync(join(tmpdir(), 'dedup-batch-crash-'));
  const children: DedupChild[] = [];

  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop('SIGKILL')));
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`repeats at most one chunk of handler calls per SIGKILL and loses nothing (${KILLS} kills, ${EVENTS} events, 25% copies)`, async () => {
    const topic = uniqueTopic('dedup-batch-crash');
    await createTopic(topic, 3);
    const stream = inboxStream(EVENTS, 3);
    await produceStream(topic, stream.messages);
    const group = `${topic}-g`;
    const child = new DedupChild({
      topic,
      kafkaGroup: group,
      dedup: { store: 'redis', redis: { url: REDIS_URL, keyPrefix: prefix } },
      effectsFile: join(dir, `${topic}.effects`),
      delayMs: 1,
      broker: KAFKA_BROKER,
      batch: true,
    });
    children.push(child);
    await child.start();
    const step = Math.floor(stream.ids.length / (KILLS + 2));
    let kills = 0;
    const deadline = Date.now() + 120_000;
    while (kills < KILLS && Date.now() < deadline) {
      if (child.effects().length >= (kills + 1) * step) {
        await child.stop('SIGKILL');
        kills++;
        await child.start();
      } else {
        await sleep(20);
      }
    }
    const done = async () => {
      const seen = new Set(child.effects().map((e) => e.id));
      return seen.size === stream.ids.length && (await groupLag(`${group}-server`, topic)) === 0;
    };
    expect(await waitFor(done, 120_000, 250)).toBe(true);
    const effects = child.effects();
    const distinct = new Set(effects.map((e) => e.id)).size;
    const repeated = effects.length - distinct;
    console.log(
      `[batch crash e2e] Redis, SIGKILL x${kills}: ${stream.messages.length} events, ${stream.ids.length} ids -> ` +
        `${effects.length} handler calls, ${repeated} repeated (${(repeated / Math.max(1, kills)).toFixed(0)} per kill), ` +
        `${stream.ids.length - distinct} lost`,
    );
    expect(kills).toBe(KILLS);
    expect(distinct).toBe(stream.ids.length);
    expect(repeated).toBeLessThanOrEqual(kills * CHUNK);
  }, 240_000);
});
