import { INestMicroservice } from '@nestjs/common';
import { register } from 'prom-client';
import {
  DEDUP_METRICS,
  RedisDedupStore,
  type ClaimResult,
  type DedupKey,
} from '@nest-resilience/kafka-dedup';
import { SideEffects, startConsumer } from './support/dedup-consumer';
import { createTopic, kcatProduce, uniqueTopic, waitForGroup } from './support/kcat';
import { metricValue } from './support/metrics';
import { PrivateRedisCluster } from './support/redis-cluster';
import { sleep, waitFor } from './support/wait';

describe('kafka-dedup on a Redis Cluster (3 masters, real Kafka)', () => {
  const cluster = new PrivateRedisCluster(17700 + Math.floor(Math.random() * 200) * 3);
  const apps: INestMicroservice[] = [];

  beforeAll(() => cluster.start(), 60_000);
  afterAll(() => cluster.stop());
  beforeEach(() => register.clear());
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });

  it('processes each event once when its copy arrives on another partition, at another consumer of the group', async () => {
    const topic = uniqueTopic('dedup-cluster');
    await createTopic(topic, 2);
    const effects = new SideEffects();
    const byInstance = [0, 0];
    const dedup = { store: 'redis' as const, redis: { cluster: { nodes: cluster.nodes } } };
    for (const instance of [0, 1]) {
      apps.push(
        await startConsumer({
          topic,
          group: `${topic}-g`,
          dedup,
          behaviour: async (value) => {
            await sleep(2);
            byInstance[instance]++;
            effects.record((value as { id: string }).id);
          },
        }),
      );
    }
    expect(await waitForGroup(`${topic}-g-server`, 2)).toBe(true);
    const ids = Array.from({ length: 80 }, (_, i) => `evt-${i}`);
    // Opposite orders on the two partitions: each consumer is first for some ids.
    const copies = (partition: number) =>
      (partition === 0 ? ids : [...ids].reverse()).map((id) => ({
        value: JSON.stringify({ id }),
        headers: { 'x-event-id': id },
        partition,
      }));
    kcatProduce(topic, [...copies(0), ...copies(1)]);
    await waitFor(
      async () => (await metricValue(DEDUP_METRICS.deduplicated)) + effects.total >= 160,
      30_000,
    );
    await sleep(300);
    expect(effects.counts.size).toBe(80);
    expect(effects.repeated()).toEqual([]);
    expect(byInstance[0]).toBeGreaterThan(0);
    expect(byInstance[1]).toBeGreaterThan(0);
    // The ids really are spread over the three masters (one script may only touch one slot).
    expect(cluster.keyCounts().every((n) => n > 0)).toBe(true);
  });

  it.each(['v1', 'v2'] as const)(
    'claims, commits and releases batches spread over every master, one script per slot (layout %s)',
    async (layout) => {
      const prefix = `batch-${layout}:`;
      const store = new RedisDedupStore({
        cluster: { nodes: cluster.nodes },
        keyPrefix: prefix,
        layout,
      });
      try {
        await store.onModuleInit();
        // A first claim, so that the batch below is claimed after this process's first bucket
        // began (a v2 commit of ids claimed before it goes through the script instead of a DEL).
        await store.claimMany([{ scope: 'g/warm-up', id: 'w' }], 10_000);
        const keys: DedupKey[] = Array.from({ length: 300 }, (_, i) => ({
          scope: 'g/orders',
          id: `b-${i}`,
        }));
        const first = await store.claimMany(keys, 10_000);
        expect(first.every((r) => r.status === 'claimed')).toBe(true);
        expect((await store.claimMany(keys.slice(0, 10), 10_000)).map((r) => r.status)).toEqual(
          Array(10).fill('in-flight'),
        );
        const held = (results: ClaimResult[], from: DedupKey[]) =>
          results.flatMap((r, i) =>
            r.status === 'claimed' ? [{ key: from[i], token: r.token }] : [],
          );
        // Commit the first 200, release the rest: the released ones can be claimed again.
        await store.commitMany(held(first, keys).slice(0, 200), 60_000);
        if (layout === 'v2') {
          // A v2 commit deletes the claim keys (a plain DEL per slot): the 100 still held remain; the
          // ids live on as members of groups spread over the masters, each group with an expiry.
          expect(cluster.keysAndTtls(`${prefix}g/orders:*`).keys).toBe(100);
          const groups = cluster.keysAndTtls(`${prefix}v2:*`);
          expect(groups.keys).toBeGreaterThan(100);
          expect(groups.withoutTtl).toBe(0);
        }
        await store.releaseMany(held(first, keys).slice(200));
        const again = await store.claimMany(keys, 10_000);
        expect(again.slice(0, 200).every((r) => r.status === 'duplicate')).toBe(true);
        expect(again.slice(200).every((r) => r.status === 'claimed')).toBe(true);
        await store.renew(held(again, keys), 10_000);
        expect(await store.size()).toBeGreaterThanOrEqual(300);
      } finally {
        await store.close();
      }
    },
  );
});
