import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { DedupChild, type Effect } from './support/dedup-child';
import { createTopic, KAFKA_BROKER, produceMany, uniqueTopic, waitForGroup } from './support/kcat';
import { REDIS_URL } from './support/redis-server';
import { sleep, waitFor } from './support/wait';

/**
 * A rolling upgrade between the Redis store's layouts: one consumer process on `redis.layout:
 * 'v1'` (one key per done id) and one on `'v2'` (fingerprints in groups) share one Kafka consumer
 * group and one key prefix. Every id is written to all four partitions, so both processes get
 * copies of it, at once and again after it was processed: each must see the ids the other
 * completed, whatever layout recorded them.
 */
describe('kafka-dedup Redis store: v1 and v2 layouts side by side (real processes, Kafka, Redis)', () => {
  const prefix = `kafka-dedup-upgrade:${Date.now()}:`;
  const dir = mkdtempSync(join(tmpdir(), 'dedup-upgrade-'));
  const children: DedupChild[] = [];

  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop('SIGKILL')));
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('processes each id once when a v1 and a v2 replica consume copies spread across partitions', async () => {
    const topic = uniqueTopic('dedup-upgrade');
    await createTopic(topic, 4);
    const kafkaGroup = `${topic}-g`;
    for (const layout of ['v1', 'v2'] as const) {
      const child = new DedupChild({
        topic,
        kafkaGroup,
        dedup: {
          store: 'redis',
          group: 'orders',
          redis: { url: REDIS_URL, keyPrefix: prefix, layout },
        },
        effectsFile: join(dir, `${layout}.effects`),
        delayMs: 2,
        broker: KAFKA_BROKER,
      });
      children.push(child);
      await child.start();
    }
    expect(await waitForGroup(`${kafkaGroup}-server`, 2)).toBe(true);
    const effects = (): Effect[] => [...children[0].effects(), ...children[1].effects()];

    const ids = Array.from({ length: 200 }, (_, i) => `order-${i}`);
    const copies = (partitions: (i: number) => number[]): Parameters<typeof produceMany>[1] =>
      ids.flatMap((id, i) =>
        partitions(i).map((partition) => ({
          value: JSON.stringify({ id }),
          headers: { 'x-event-id': id },
          partition,
        })),
      );
    // Each id on two neighbouring partitions: both copies in flight at once, in one process or in
    // the two, and each process first for the ids of its own partitions.
    await produceMany(
      topic,
      copies((i) => [i % 4, (i + 1) % 4]),
    );
    expect(await waitFor(() => effects().length >= ids.length, 60_000, 100)).toBe(true);
    await sleep(3_000);
    // Late copies on every partition: done, recorded by either layout.
    await produceMany(
      topic,
      copies(() => [0, 1, 2, 3]),
    );
    await sleep(6_000);

    const all = effects();
    const counts = new Map<string, number>();
    for (const effect of all) counts.set(effect.id, (counts.get(effect.id) ?? 0) + 1);
    expect([...counts.entries()].filter(([, n]) => n > 1)).toEqual([]);
    expect(counts.size).toBe(ids.length);
    // Both layouts did part of the work, and recorded it their own way.
    expect(children[0].effects().length).toBeGreaterThan(0);
    if (children[1].effects().length === 0) console.log(children[1].output.slice(-3000));
    expect(children[1].effects().length).toBeGreaterThan(0);
    const redis = new Redis(REDIS_URL);
    try {
      expect((await redis.keys(`${prefix}v2:*`)).length).toBeGreaterThan(0);
      const v1Done = children[0].effects()[0].id;
      expect(await redis.get(`${prefix}orders/${topic}:${v1Done}`)).toBe('done');
    } finally {
      redis.disconnect();
    }
  });
});
