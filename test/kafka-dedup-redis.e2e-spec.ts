import { INestMicroservice } from '@nestjs/common';
import { Redis } from 'ioredis';
import { register } from 'prom-client';
import { Test } from '@nestjs/testing';
import {
  DEDUP_METRICS,
  DedupHealthIndicator,
  DedupModule,
  RedisDedupStore,
} from '@nest-resilience/kafka-dedup';
import { CapturingLogger, startDedupApp } from './support/dedup-app';
import {
  createTopic,
  kcatProduce,
  produceMany,
  uniqueTopic,
  waitForGroup,
  type KcatRecord,
} from './support/kcat';
import { SideEffects, startConsumer } from './support/dedup-consumer';
import { metricValue } from './support/metrics';
import { PrivateRedis, REDIS_URL } from './support/redis-server';
// White-box: which of the 32,768 groups an id's fingerprint lands in (to put two ids in one group).
import { RedisIdArgs } from '../libs/kafka-dedup/src/stores/redis/redis-id-args';
import { GroupPrefixes } from '../libs/kafka-dedup/src/stores/redis/redis-layout';
import { sleep, waitFor } from './support/wait';

interface UserEvent {
  id: string;
}

function events(ids: string[], partitionOf?: (i: number) => number): KcatRecord[] {
  return ids.map((id, i) => ({
    value: JSON.stringify({ id }),
    headers: { 'x-event-id': id },
    partition: partitionOf?.(i),
  }));
}

/** The shard of id `x`'s `v2` group (buckets of `bucketMs`) and another id `y` of the same shard. */
function sameShard(scope: string, x: string, bucketMs: number): { shard: string; y: string } {
  const fingerprints = new RedisIdArgs('v2', new GroupPrefixes('p:', bucketMs), 32_768, bucketMs);
  const shardOf = (id: string): string => {
    const out: Array<string | number | Buffer> = [];
    fingerprints.claimId(out, { scope, id }, 't', 1_000);
    return String(out[1]);
  };
  const shard = shardOf(x);
  let y = '';
  for (let i = 0; y === ''; i++) if (shardOf(`${x}-${i}`) === shard) y = `${x}-${i}`;
  fingerprints.stop();
  return { shard, y };
}

describe('kafka-dedup with the Redis store (real Kafka, real Redis)', () => {
  const apps: INestMicroservice[] = [];
  const prefix = `kafka-dedup-e2e:${Date.now()}:`;

  beforeEach(() => register.clear());
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  afterAll(async () => {
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('reprocesses nothing after a consumer restart that replays the topic', async () => {
    const topic = uniqueTopic('dedup-restart');
    await createTopic(topic);
    const effects = new SideEffects();
    const dedup = {
      store: 'redis' as const,
      group: 'billing',
      redis: { url: REDIS_URL, keyPrefix: prefix },
    };
    const behaviour = (value: unknown): void => effects.record((value as UserEvent).id);
    kcatProduce(topic, events(['a', 'b', 'c', 'b']));
    apps.push(await startConsumer({ topic, group: `${topic}-g1`, dedup, behaviour }));
    expect(await waitFor(() => effects.counts.size === 3)).toBe(true);
    await apps.pop()!.close();

    // A new consumer group starts from the beginning: Kafka redelivers every message.
    register.clear();
    apps.push(await startConsumer({ topic, group: `${topic}-g2`, dedup, behaviour }));
    kcatProduce(topic, events(['d']));
    expect(await waitFor(() => effects.counts.has('d'))).toBe(true);
    await sleep(300);
    expect(Object.fromEntries(effects.counts)).toEqual({ a: 1, b: 1, c: 1, d: 1 });
    expect(await metricValue(DEDUP_METRICS.deduplicated, { topic, store: 'redis' })).toBe(4);
  });

  it('processes each event once across two instances of one group sharing Redis', async () => {
    const topic = uniqueTopic('dedup-replicas');
    await createTopic(topic, 2);
    const effects = new SideEffects();
    const byInstance = [0, 0];
    const dedup = { store: 'redis' as const, redis: { url: REDIS_URL, keyPrefix: prefix } };
    for (const instance of [0, 1]) {
      apps.push(
        await startConsumer({
          topic,
          group: `${topic}-g`,
          dedup,
          behaviour: async (value) => {
            await sleep(5);
            byInstance[instance]++;
            effects.record((value as UserEvent).id);
          },
        }),
      );
    }
    expect(await waitForGroup(`${topic}-g-server`, 2)).toBe(true); // each instance owns a partition
    // Each id is written to both partitions, so both instances see every id; in opposite orders,
    // so each instance is first for some ids (in the same order the faster one always wins).
    const ids = Array.from({ length: 60 }, (_, i) => `evt-${i}`);
    kcatProduce(topic, [...events(ids, () => 0), ...events([...ids].reverse(), () => 1)]);
    await waitFor(
      async () => (await metricValue(DEDUP_METRICS.deduplicated)) + effects.total >= 120,
      30_000,
    );
    await sleep(300);
    expect(effects.counts.size).toBe(60);
    expect(effects.repeated()).toEqual([]);
    expect(byInstance[0]).toBeGreaterThan(0);
    expect(byInstance[1]).toBeGreaterThan(0);
  });

  describe('RedisDedupStore on the shared Redis', () => {
    const stores: RedisDedupStore[] = [];
    /** A store on the shared Redis (`v1` unless `layout` says; `v2` with a 60 s window unless `window`). */
    const open = (ownerTtl = 1_000, layout?: 'v1' | 'v2', window = 60_000): RedisDedupStore => {
      const store = new RedisDedupStore(
        { url: REDIS_URL, keyPrefix: prefix, ownerTtl, layout },
        layout ? window : undefined,
      );
      stores.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((s) => s.close()));
    });

    it('a commit that is not awaited is applied before the next claim, also from another process', async () => {
      const a = open();
      const b = open();
      await a.onModuleInit();
      await b.onModuleInit();
      const key = { scope: 'store-test', id: `c-${Date.now()}` };
      const claimed = await a.claim(key, 30_000);
      expect(claimed.status).toBe('claimed');
      a.commit(key, (claimed as { token: string }).token, 60_000); // queued, not awaited
      expect(await a.claim(key, 30_000)).toEqual({ status: 'duplicate' }); // rode along
      const other = { scope: 'store-test', id: `d-${Date.now()}` };
      const second = await a.claim(other, 30_000);
      a.commit(other, (second as { token: string }).token, 60_000);
      await new Promise((resolve) => setImmediate(resolve)); // end of the turn: sent on its own
      expect(await b.claim(other, 30_000)).toEqual({ status: 'duplicate' });
    });

    it('a claim held by a live owner stays in flight; once its owner is gone, it is taken over at once', async () => {
      const a = open();
      const b = open();
      await a.onModuleInit();
      await b.onModuleInit();
      const key = { scope: 'store-test', id: `t-${Date.now()}` };
      const held = await a.claim(key, 60_000);
      expect(held.status).toBe('claimed');
      expect(await b.claim(key, 60_000)).toEqual({ status: 'in-flight' });
      await a.close(); // its liveness record goes with it (a crash lets it expire after ownerTtl)
      const taken = await b.claim(key, 60_000);
      expect(taken.status).toBe('claimed');
      expect(b.takeovers).toBe(1);
    });

    it('layout v2 keeps a done id as a fingerprint in a versioned group, reports a duplicate age never under-estimated, and marks ids once', async () => {
      const store = open(1_000, 'v2');
      await store.onModuleInit();
      const remaining: number[] = [];
      store.onDuplicate = (ms) => remaining.push(ms);
      const key = { scope: 'store-v2', id: `v2-${Date.now()}` };
      const claimed = await store.claim(key, 30_000);
      if (claimed.status !== 'claimed') throw new Error(claimed.status);
      store.commit(key, claimed.token, 60_000);
      expect(await store.claim(key, 30_000)).toEqual({ status: 'duplicate' });
      // The answer is the time since the group's bucket began (65,536 ms buckets for a 60 s
      // window), at least the original's age: handed on as what is left of the 60 s, never more
      // than the truth, so the age (ttl - remaining) is never under-estimated.
      expect(remaining).toHaveLength(1);
      expect(remaining[0]).toBeGreaterThanOrEqual(0);
      expect(remaining[0]).toBeLessThanOrEqual(60_000);
      const redis = new Redis(REDIS_URL);
      try {
        expect(await redis.exists(`${prefix}store-v2:${key.id}`)).toBe(0);
        const groups = await redis.keys(`${prefix}v2:65536:*`);
        expect(groups).toHaveLength(1);
        expect(await redis.type(groups[0])).toBe('set');
        expect(await redis.object('ENCODING', groups[0])).toBe('intset');
        // The group lives until one window and the 2 s clock margin after its bucket ends: at most
        // a bucket + the window + the margin (reached by a group created as its bucket begins).
        const pttl = await redis.pttl(groups[0]);
        expect(pttl).toBeGreaterThan(60_000);
        expect(pttl).toBeLessThanOrEqual(65_536 + 60_000 + 2_000);
      } finally {
        redis.disconnect();
      }
      expect(await store.markIfAbsent(key, 60_000)).toBe(false);
      const other = { scope: 'store-v2', id: `${key.id}-b` };
      expect(await store.markIfAbsent(other, 60_000)).toBe(true);
      expect(await store.markIfAbsent(other, 60_000)).toBe(false);
      expect(await store.claim(other, 30_000)).toEqual({ status: 'duplicate' });
    });

    it('layout v2: a commit after its claim was taken over still marks the id done, and the taker cannot undo it', async () => {
      const a = open(5_000, 'v2');
      const b = open(5_000, 'v2');
      await a.onModuleInit();
      await b.onModuleInit();
      const one = { scope: 'store-v2-late', id: `one-${Date.now()}` };
      const many = { scope: 'store-v2-late', id: `many-${Date.now()}` };
      // a's leases run out while its handlers still run (a live owner whose handler blocked for longer
      // than the lease): b takes the ids.
      const [heldOne, heldMany] = await a.claimMany([one, many], 150);
      if (heldOne.status !== 'claimed' || heldMany.status !== 'claimed')
        throw new Error('not claimed');
      await sleep(300);
      const [takenOne, takenMany] = await b.claimMany([one, many], 30_000);
      expect(takenOne.status).toBe('claimed');
      expect(takenMany.status).toBe('claimed');
      // a's handlers finish: one commit per message (it rides with the next claim), one in a batch.
      a.commit(one, heldOne.token, 60_000);
      await a.commitMany([{ key: many, token: heldMany.token }], 60_000);
      expect(await a.claim(one, 30_000)).toEqual({ status: 'duplicate' });
      // Both ids are done for everyone, although b's claims were in flight.
      expect(await b.claimMany([one, many], 30_000)).toEqual([
        { status: 'duplicate' },
        { status: 'duplicate' },
      ]);
      // b's handlers fail: its releases find nothing of theirs; the ids stay done, their copies skipped.
      await b.releaseMany([
        { key: one, token: (takenOne as { token: string }).token },
        { key: many, token: (takenMany as { token: string }).token },
      ]);
      const c = open(5_000, 'v2');
      await c.onModuleInit();
      expect(await c.claimMany([one, many], 30_000)).toEqual([
        { status: 'duplicate' },
        { status: 'duplicate' },
      ]);
    });
    it('layout v2: an id stays in flight while its claim is held or renewed; released, or past its lease, it is claimed again', async () => {
      const a = open(5_000, 'v2');
      const b = open(5_000, 'v2');
      await a.onModuleInit();
      await b.onModuleInit();
      const scope = 'store-v2-lease';
      const [released, renewed, lapsed] = ['released', 'renewed', 'lapsed'].map((name) => ({
        scope,
        id: `${name}-${Date.now()}`,
      }));
      const held = await a.claimMany([released, renewed, lapsed], 200);
      if (held.some((claim) => claim.status !== 'claimed')) throw new Error('not claimed');
      const tokens = held.map((claim) => (claim as { token: string }).token);
      const redis = new Redis(REDIS_URL);
      try {
        // The claim key says in flight: the token and its lease deadline, living as long as a group
        // can (its member is in the group already: without the key the id would read as done).
        const value = await redis.get(`${prefix}${scope}:${released.id}`);
        expect(value).toMatch(new RegExp(`^${tokens[0]}/\\d+$`));
        expect(await redis.pttl(`${prefix}${scope}:${released.id}`)).toBeGreaterThan(60_000);
      } finally {
        redis.disconnect();
      }
      expect((await b.claimMany([released, renewed, lapsed], 30_000)).map((r) => r.status)).toEqual(
        ['in-flight', 'in-flight', 'in-flight'],
      );
      // a's handler of `released` fails: released, the id is claimed by the next copy (b), at once.
      await a.release(released, tokens[0]);
      const retaken = await b.claim(released, 30_000);
      expect(retaken.status).toBe('claimed');
      // a renews `renewed`, not `lapsed`; both leases were 200 ms, a lives on.
      await a.renew([{ key: renewed, token: tokens[1] }], 30_000);
      await sleep(400);
      const [stillHeld, takenOver] = await b.claimMany([renewed, lapsed], 30_000);
      expect(stillHeld.status).toBe('in-flight');
      expect(takenOver.status).toBe('claimed');
      expect(b.takeovers).toBe(1);
      // b's handlers finish: done for everyone; a's late release of `lapsed` changes nothing.
      await b.commitMany(
        [
          { key: released, token: (retaken as { token: string }).token },
          { key: lapsed, token: (takenOver as { token: string }).token },
        ],
        60_000,
      );
      await a.release(lapsed, tokens[2]);
      await a.commitMany([{ key: renewed, token: tokens[1] }], 60_000);
      expect(await a.claimMany([released, renewed, lapsed], 30_000)).toEqual([
        { status: 'duplicate' },
        { status: 'duplicate' },
        { status: 'duplicate' },
      ]);
    });

    it('layout v2: a claim that takes its member out again never leaves its group without an expiry, also with the next claim already on its way', async () => {
      // A 45 s window: 49,152 ms buckets, groups no other test here writes to.
      const v1 = open(1_000, 'v1');
      const store = open(5_000, 'v2', 45_000);
      await v1.onModuleInit();
      await store.onModuleInit();
      const scope = 'store-v2-undo';
      const x = { scope, id: `undo-${Date.now()}` };
      // x is done as a v1 record: a v2 claim adds its member, finds the record, takes it out again.
      expect(await v1.markIfAbsent(x, 60_000)).toBe(true);
      const { shard, y } = sameShard(scope, x.id, 49_152);
      // Both claims on their way at once: x's creates the group (and sets its expiry), y's finds it.
      // x's member comes out again before y's goes in.
      const [first, second] = await Promise.all([
        store.claim(x, 30_000),
        store.claim({ scope, id: y }, 30_000),
      ]);
      expect(first).toEqual({ status: 'duplicate' });
      expect(second.status).toBe('claimed');
      const redis = new Redis(REDIS_URL);
      try {
        const groups = await redis.keys(`${prefix}v2:49152:*:${shard}`);
        expect(groups).toHaveLength(1);
        // x's member came out again, y's went in: the group (kept by its sentinel member) still has
        // its expiry. (Before groups had the sentinel, x's SREM deleted it and y's write recreated it
        // without one: -1.)
        expect(await redis.pttl(groups[0])).toBeGreaterThan(45_000);
      } finally {
        redis.disconnect();
      }
    });

    it('layout v2: after a script Redis refused (OOM under noeviction), the next write to the group still gives it its expiry', async () => {
      const server = new PrivateRedis(18379 + Math.floor(Math.random() * 1000));
      await server.start();
      const admin = new Redis(server.url);
      const store = new RedisDedupStore(
        { url: server.url, keyPrefix: 'oom:', layout: 'v2' },
        45_000,
      );
      try {
        await store.onModuleInit();
        const key = { scope: 'store-v2-oom', id: `oom-${Date.now()}` };
        // Every write refused: nothing was written.
        await admin.config('SET', 'maxmemory', '1');
        await expect(store.claim(key, 30_000)).rejects.toThrow(/OOM/);
        await admin.config('SET', 'maxmemory', '0');
        expect((await store.claim(key, 30_000)).status).toBe('claimed');
        const groups = await admin.keys('oom:v2:*');
        expect(groups).toHaveLength(1);
        // Had the failed claim used up the request, the group would have been created without one (-1).
        expect(await admin.pttl(groups[0])).toBeGreaterThan(45_000);
      } finally {
        await store.close();
        admin.disconnect();
        await server.stop();
      }
    });

    it("layout v2: a group dropped behind the store's back (no reconnection) is recreated with its expiry", async () => {
      const store = open(5_000, 'v2', 45_000);
      await store.onModuleInit();
      const scope = 'store-v2-dropped';
      const x = `dropped-${Date.now()}`;
      const { shard, y } = sameShard(scope, x, 49_152);
      const redis = new Redis(REDIS_URL);
      try {
        expect((await store.claim({ scope, id: x }, 30_000)).status).toBe('claimed');
        const groups = await redis.keys(`${prefix}v2:49152:*:${shard}`);
        expect(groups).toHaveLength(1);
        expect(await redis.pttl(groups[0])).toBeGreaterThan(45_000);
        // An operator's DEL (or a flush, an eviction): the same connection, nothing tells the store.
        await redis.del(groups[0]);
        expect((await store.claim({ scope, id: y }, 30_000)).status).toBe('claimed');
        // A store that kept a record of the groups whose expiry it had set would recreate it without
        // one (-1). Looked up again: had a bucket ended between the claims, y's group is another.
        const recreated = await redis.keys(`${prefix}v2:49152:*:${shard}`);
        expect(recreated.length).toBeGreaterThan(0);
        for (const group of recreated) expect(await redis.pttl(group)).toBeGreaterThan(45_000);
      } finally {
        redis.disconnect();
      }
    });

    it('layout v2 in batch (all ids of a chunk in one argument): in flight, then done after the commits of a first and a later batch (script and plain DEL paths); released ids claimed again; every group created has its expiry', async () => {
      // A 50 s window: 57,344 ms buckets, a group key no other test here writes.
      const a = open(5_000, 'v2', 50_000);
      const b = open(5_000, 'v2', 50_000);
      await a.onModuleInit();
      await b.onModuleInit();
      const scope = 'store-v2-batch';
      const ids = (batch: string, n: number): Array<{ scope: string; id: string }> =>
        Array.from({ length: n }, (_, i) => ({ scope, id: `${batch}-${Date.now()}-${i}` }));
      const claimAll = async (
        store: RedisDedupStore,
        keys: Array<{ scope: string; id: string }>,
      ): Promise<Array<{ key: { scope: string; id: string }; token: string }>> => {
        const results = await store.claimMany(keys, 30_000);
        return results.map((r, i) => {
          if (r.status !== 'claimed') throw new Error(`${keys[i].id}: ${r.status}`);
          return { key: keys[i], token: r.token };
        });
      };
      // The first batch's tokens were issued before the store's first bucket began: its commits go
      // through the commit script; the second batch's are one plain DEL.
      const first = await claimAll(a, ids('first', 60));
      const second = await claimAll(a, ids('second', 60));
      const all = [...first, ...second];
      const statuses = async (store: RedisDedupStore, items: typeof all): Promise<string[]> =>
        (
          await store.claimMany(
            items.map((item) => item.key),
            30_000,
          )
        ).map((r) => r.status);
      expect(await statuses(b, all)).toEqual(all.map(() => 'in-flight'));
      await a.commitMany([...first.slice(0, 40), ...second.slice(0, 40)], 50_000);
      await a.releaseMany([...first.slice(40), ...second.slice(40)]);
      const redis = new Redis(REDIS_URL);
      try {
        for (const item of [...first.slice(0, 40), ...second.slice(0, 40)])
          expect(await redis.exists(`${prefix}${scope}:${item.key.id}`)).toBe(0);
        const again = await statuses(b, all);
        const done = [...first.slice(0, 40), ...second.slice(0, 40)];
        expect(again.filter((s, i) => (i % 60 < 40 ? s !== 'duplicate' : s !== 'claimed'))).toEqual(
          [],
        );
        expect(await statuses(a, done)).toEqual(done.map(() => 'duplicate'));
        const groups = await redis.keys(`${prefix}v2:57344:*`);
        // 120 ids in 32,768 shards: ~120 groups (a bucket ending meanwhile: more).
        expect(groups.length).toBeGreaterThan(100);
        let members = 0;
        for (const group of groups) {
          const pttl = await redis.pttl(group);
          expect(pttl).toBeGreaterThan(50_000);
          expect(pttl).toBeLessThanOrEqual(57_344 + 50_000 + 2_000);
          members += (await redis.scard(group)) - 1; // the sentinel
        }
        // Every id claimed, committed or released keeps its member (a release leaves it for the next claim).
        expect(members).toBeGreaterThanOrEqual(120);
      } finally {
        redis.disconnect();
      }
    });

    it('layout v2: an id claimed in one bucket and committed in a later one is remembered a whole window after its commit', async () => {
      // A 1 s window: 1,024 ms buckets. The claim's group expires at most ~2.3 s after the claim;
      // the handler takes 2.1 s, so the id must join the commit's group to last 1 s more.
      const store = open(5_000, 'v2', 1_000);
      const other = open(5_000, 'v2', 1_000);
      await store.onModuleInit();
      await other.onModuleInit();
      const key = { scope: 'store-v2-roll', id: `roll-${Date.now()}` };
      const claimed = await store.claim(key, 30_000);
      if (claimed.status !== 'claimed') throw new Error(claimed.status);
      await sleep(2_100);
      store.commit(key, claimed.token, 1_000);
      // A copy right behind it: the commit rides in the copy's claim script, which runs it first (it
      // creates the new bucket's group) — the group still gets its expiry.
      expect(await store.claim(key, 30_000)).toEqual({ status: 'duplicate' });
      const redis = new Redis(REDIS_URL);
      try {
        const groups = await redis.keys(`${prefix}v2:1024:*`);
        expect(groups.length).toBeGreaterThan(0);
        for (const group of groups) expect(await redis.pttl(group)).toBeGreaterThan(0);
      } finally {
        redis.disconnect();
      }
      await sleep(900);
      expect(await other.claim(key, 30_000)).toEqual({ status: 'duplicate' });
    });
  });

  describe('when Redis stops mid-stream', () => {
    const redis = new PrivateRedis(16379 + Math.floor(Math.random() * 1000));

    beforeEach(async () => redis.start());
    afterEach(async () => redis.stop());

    it('DedupHealthIndicator reports the Redis store up, then down once Redis stops', async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [
          DedupModule.forRoot({
            store: 'redis',
            cleanupCron: false,
            redis: { url: redis.url, keyPrefix: prefix },
          }),
        ],
      }).compile();
      try {
        const health = moduleRef.get(DedupHealthIndicator);
        expect((await health.isHealthy())['kafka-dedup']).toMatchObject({
          status: 'up',
          store: 'redis',
        });
        await redis.stop();
        const down = await health.isHealthy('dedup-store', 500);
        expect(down['dedup-store']).toMatchObject({ status: 'down', store: 'redis' });
      } finally {
        await moduleRef.close();
      }
    });

    it('onStoreError: process — processes every event (at-least-once) and counts the store errors', async () => {
      const topic = uniqueTopic('dedup-outage-process');
      await createTopic(topic);
      const seen: string[] = [];
      apps.push(
        await startConsumer({
          topic,
          group: `${topic}-g`,
          dedup: {
            store: 'redis',
            onStoreError: 'process',
            redis: { url: redis.url, keyPrefix: prefix },
          },
          behaviour: (value) => void seen.push((value as UserEvent).id),
        }),
      );
      kcatProduce(topic, events(['a', 'b']));
      expect(await waitFor(() => seen.length === 2)).toBe(true);
      await redis.stop();
      kcatProduce(topic, events(['c', 'd', 'e']));
      expect(await waitFor(() => seen.length === 5)).toBe(true);
      expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(
        await metricValue(DEDUP_METRICS.storeErrors, { topic, store: 'redis' }),
      ).toBeGreaterThanOrEqual(3);
    });

    it('a 3 s Redis outage under onStoreError: process writes a handful of warnings, not one per message', async () => {
      const topic = uniqueTopic('dedup-outage-logs');
      await createTopic(topic);
      const logger = new CapturingLogger();
      let processed = 0;
      apps.push(
        await startDedupApp({
          topic,
          group: `${topic}-g`,
          logger,
          dedup: {
            store: 'redis',
            onStoreError: 'process',
            redis: { url: redis.url, keyPrefix: prefix },
          },
          behaviour: () => void processed++,
        }),
      );
      const batch = (from: number, n: number) =>
        Array.from({ length: n }, (_, i) => ({
          value: JSON.stringify({ id: `o${from + i}` }),
          headers: { 'x-event-id': `o${from + i}` },
        }));
      await produceMany(topic, batch(0, 10));
      expect(await waitFor(() => processed === 10)).toBe(true);
      await redis.stop();
      const outageStarted = Date.now();
      let sent = 10;
      while (Date.now() - outageStarted < 3_000) {
        await produceMany(topic, batch(sent, 200));
        sent += 200;
        await sleep(250);
      }
      expect(await waitFor(() => processed === sent, 30_000)).toBe(true);
      await redis.start();
      const dedupLines = logger.lines.filter((line) => line.includes('[KafkaDedup]'));
      console.log(
        `${sent - 10} messages during a 3 s outage: ${dedupLines.length} KafkaDedup log lines`,
      );
      expect(sent - 10).toBeGreaterThan(1_000);
      expect(dedupLines.length).toBeGreaterThan(0);
      expect(dedupLines.length).toBeLessThanOrEqual(5);
      // The exact count is in the metrics.
      expect(await metricValue(DEDUP_METRICS.storeErrors, { topic })).toBeGreaterThanOrEqual(
        sent - 10,
      );
    });

    it('onStoreError: throw — holds the events back until Redis returns, then processes each once', async () => {
      const topic = uniqueTopic('dedup-outage-throw');
      await createTopic(topic);
      const effects = new SideEffects();
      apps.push(
        await startConsumer({
          topic,
          group: `${topic}-g`,
          dedup: {
            store: 'redis',
            onStoreError: 'throw',
            redis: { url: redis.url, keyPrefix: prefix },
          },
          behaviour: (value) => effects.record((value as UserEvent).id),
        }),
      );
      kcatProduce(topic, events(['a']));
      expect(await waitFor(() => effects.counts.has('a'))).toBe(true);
      await redis.stop();
      kcatProduce(topic, events(['b', 'a', 'c']));
      await sleep(1_500);
      expect(effects.total).toBe(1); // nothing processed without the store, nothing dropped either
      expect(await metricValue(DEDUP_METRICS.storeErrors, { topic })).toBeGreaterThan(0);
      await redis.start(); // a fresh, empty Redis: 'a' is not remembered any more
      expect(await waitFor(() => effects.counts.has('c'), 30_000)).toBe(true);
      await sleep(300);
      expect(effects.counts.get('b')).toBe(1);
      expect(effects.counts.get('c')).toBe(1);
    });
  });
});
