import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { DedupChild, type Effect } from './support/dedup-child';
import { createTopic, KAFKA_BROKER, produceMany, uniqueTopic, waitForGroup } from './support/kcat';
import { REDIS_URL } from './support/redis-server';
import { sleep, waitFor } from './support/wait';

/**
 * The two steps of a rolling upgrade between the Redis store's layouts, each with one consumer
 * process of the layout being replaced and one of the next, sharing one Kafka consumer group and
 * one key prefix: `v1` (one key per done id: the scripts of the versions before layouts) beside
 * `dual` (writes both records), then `dual` beside `v2` (fingerprints in groups). Every id is
 * written to two partitions at once and later to all four, so both processes get copies of it,
 * while it is in flight and after it was processed: each must see the ids the other completed.
 */
describe('kafka-dedup Redis store: layouts side by side during a rolling upgrade (real processes, Kafka, Redis)', () => {
  const root = `kafka-dedup-upgrade:${Date.now()}:`;
  const dir = mkdtempSync(join(tmpdir(), 'dedup-upgrade-'));
  const children: DedupChild[] = [];

  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop('SIGKILL')));
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${root}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['v1', 'dual'],
    ['dual', 'v2'],
  ] as const)(
    'processes each id once when a %s and a %s replica consume copies spread across partitions',
    async (from, to) => {
      const prefix = `${root}${from}-${to}:`;
      const start = children.length;
      const topic = uniqueTopic('dedup-upgrade');
      await createTopic(topic, 4);
      const kafkaGroup = `${topic}-g`;
      for (const layout of [from, to]) {
        const child = new DedupChild({
          topic,
          kafkaGroup,
          dedup: {
            store: 'redis',
            group: 'orders',
            redis: { url: REDIS_URL, keyPrefix: prefix, layout },
          },
          effectsFile: join(dir, `${from}-${to}-${layout}.effects`),
          delayMs: 2,
          broker: KAFKA_BROKER,
        });
        children.push(child);
        await child.start();
      }
      expect(await waitForGroup(`${kafkaGroup}-server`, 2)).toBe(true);
      const [a, b] = children.slice(start);
      const effects = (): Effect[] => [...a.effects(), ...b.effects()];

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
      for (const child of [a, b]) {
        if (child.effects().length === 0) console.log(child.output.slice(-3000));
        expect(child.effects().length).toBeGreaterThan(0);
      }
      const redis = new Redis(REDIS_URL);
      try {
        const claimKey = (id: string): string => `${prefix}orders/${topic}:${id}`;
        expect((await redis.keys(`${prefix}v2:*`)).length).toBeGreaterThan(0);
        const [fromDone, toDone] = [a.effects()[0].id, b.effects()[0].id];
        // v1 and dual leave the v1 record; v2 deletes the claim key (its record is in a group).
        expect(await redis.get(claimKey(fromDone))).toBe('done');
        expect(await redis.get(claimKey(toDone))).toBe(to === 'v2' ? null : 'done');
      } finally {
        redis.disconnect();
      }
    },
  );
});
