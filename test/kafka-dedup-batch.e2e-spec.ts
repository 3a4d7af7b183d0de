import { INestMicroservice } from '@nestjs/common';
import { register } from 'prom-client';
import { DEDUP_METRICS, DedupStore } from '@nest-resilience/kafka-dedup';
import { createTopic, kcatProduce, uniqueTopic, type KcatRecord } from './support/kcat';
import { CapturingLogger, SideEffects, startConsumer } from './support/dedup-consumer';
import { metricValue } from './support/metrics';
import { sleep, waitFor } from './support/wait';

interface UserEvent {
  id: string;
}

const record = (id: string): KcatRecord => ({
  value: JSON.stringify({ id }),
  headers: { 'x-event-id': id },
});

/**
 * The first deduplicated message of a topic teaches the batch server how its handler keys ids;
 * later batches are claimed in one store call. Each test sends one such message first.
 */
/** The id only in the JSON value: many records go out in one kcat call (one call per header set). */
const plain = (id: string): KcatRecord => ({ value: JSON.stringify({ id }) });

async function warmUp(topic: string, effects: SideEffects, make = record): Promise<void> {
  kcatProduce(topic, [make('warm-up')]);
  expect(await waitFor(() => effects.counts.has('warm-up'))).toBe(true);
}

describe('kafka-dedup batch mode (DedupKafkaServer on eachBatch, real Kafka, memory store)', () => {
  let app: INestMicroservice | undefined;

  beforeEach(() => register.clear());
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('processes copies of an id inside one batch once, and skips ids seen in earlier batches', async () => {
    const topic = uniqueTopic('dedup-batch-copies');
    await createTopic(topic);
    const effects = new SideEffects();
    let deliveries = 0;
    app = await startConsumer({
      topic,
      group: `${topic}-g`,
      server: 'batch',
      dedup: { key: { from: 'value', path: 'id' } },
      behaviour: (value) => {
        deliveries++;
        effects.record((value as UserEvent).id);
      },
    });
    await warmUp(topic, effects);
    const claimMany = jest.spyOn(app.get(DedupStore), 'claimMany');
    const records: KcatRecord[] = [];
    // one kcat call (no per-record header); 500 copies; 700 ids claimed in chunks of 500
    for (let i = 0; i < 1_200; i++) records.push(plain(`evt-${i % 700}`));
    records.push(plain('warm-up')); // seen in an earlier batch
    kcatProduce(topic, records);
    await waitFor(
      async () => (await metricValue(DEDUP_METRICS.deduplicated)) + deliveries >= 1_202,
    );
    await sleep(300);
    expect(claimMany).toHaveBeenCalled(); // claimed by batch, not per message
    expect(effects.counts.size).toBe(701);
    expect(effects.repeated()).toEqual([]);
    expect(await metricValue(DEDUP_METRICS.processed, { topic, store: 'memory' })).toBe(701);
    // ≥: a rebalance may redeliver an uncommitted copy, which is then (correctly) skipped again
    expect(
      await metricValue(DEDUP_METRICS.deduplicated, { topic, store: 'memory' }),
    ).toBeGreaterThanOrEqual(501);
  });

  it('stops the batch at a failed handler: the failed offset is redelivered and processed once, earlier ones are not reprocessed', async () => {
    const topic = uniqueTopic('dedup-batch-fail');
    await createTopic(topic);
    const effects = new SideEffects();
    const attempts = new Map<string, number>();
    const logger = new CapturingLogger();
    app = await startConsumer({
      topic,
      group: `${topic}-g`,
      server: 'batch',
      dedup: {},
      logger,
      behaviour: (value) => {
        const id = (value as UserEvent).id;
        attempts.set(id, (attempts.get(id) ?? 0) + 1);
        if (id === 'evt-5' && attempts.get(id) === 1) throw new Error('transient failure');
        effects.record(id);
      },
    });
    await warmUp(topic, effects);
    kcatProduce(
      topic,
      Array.from({ length: 10 }, (_, i) => record(`evt-${i}`)),
    );
    expect(await waitFor(() => effects.counts.has('evt-9'))).toBe(true);
    await sleep(300);
    expect(attempts.get('evt-5')).toBe(2);
    for (let i = 0; i < 10; i++) if (i !== 5) expect(attempts.get(`evt-${i}`)).toBe(1);
    expect(effects.repeated()).toEqual([]);
    expect(effects.counts.size).toBe(11);
    const failures = logger.errors('transient failure');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain(`handler failed on ${topic}[0]@6`); // warm-up is offset 0
  });

  it('keeps heartbeating and renewing leases during a batch longer than the session timeout', async () => {
    const topic = uniqueTopic('dedup-batch-long');
    await createTopic(topic);
    const effects = new SideEffects();
    const attempts = new Map<string, number>();
    let joins = 0;
    let watching = false;
    app = await startConsumer({
      topic,
      group: `${topic}-g`,
      server: 'batch',
      dedup: { leaseTtl: 1_500 },
      consumer: { sessionTimeout: 6_000, heartbeatInterval: 500 },
      behaviour: async (value, ctx) => {
        if (!watching) {
          watching = true;
          const consumer = ctx.getConsumer();
          consumer.on(consumer.events.GROUP_JOIN, () => joins++);
        }
        const id = (value as UserEvent).id;
        attempts.set(id, (attempts.get(id) ?? 0) + 1);
        if (id !== 'warm-up') await sleep(250);
        effects.record(id);
      },
    });
    await warmUp(topic, effects);
    const ids = Array.from({ length: 32 }, (_, i) => `slow-${i}`);
    kcatProduce(topic, ids.map(record)); // ~8 s of work: longer than sessionTimeout and leaseTtl
    const store = app.get(DedupStore);
    await sleep(4_000);
    // Still held by the batch (renewed past its 1.5 s lease): another consumer would wait.
    expect(await store.claim({ scope: topic, id: 'slow-31' }, 1_500)).toEqual({
      status: 'in-flight',
    });
    expect(await waitFor(() => effects.counts.has('slow-31'), 20_000)).toBe(true);
    await sleep(300);
    expect(ids.map((id) => attempts.get(id))).toEqual(ids.map(() => 1));
    expect(joins).toBe(0); // never kicked out of the group, no rebalance
  }, 60_000);

  it('with the Redis store, claims a batch with claimMany and processes each id once across batches', async () => {
    const topic = uniqueTopic('dedup-batch-redis');
    await createTopic(topic);
    const effects = new SideEffects();
    let deliveries = 0;
    app = await startConsumer({
      topic,
      group: `${topic}-g`,
      server: 'batch',
      dedup: {
        store: 'redis',
        redis: {
          url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
          keyPrefix: `e2e:${topic}:`,
        },
      },
      behaviour: (value) => {
        deliveries++;
        effects.record((value as UserEvent).id);
      },
    });
    await warmUp(topic, effects);
    const claimMany = jest.spyOn(app.get(DedupStore), 'claimMany');
    const ids = Array.from({ length: 150 }, (_, i) => `r-${i % 100}`); // 50 copies
    kcatProduce(topic, ids.map(record));
    await waitFor(async () => (await metricValue(DEDUP_METRICS.deduplicated)) + deliveries >= 151);
    kcatProduce(topic, ['r-1', 'r-99', 'r-new'].map(record)); // a later batch
    expect(await waitFor(() => effects.counts.has('r-new'))).toBe(true);
    await sleep(300);
    expect(claimMany).toHaveBeenCalled();
    expect(effects.repeated()).toEqual([]);
    expect(effects.counts.size).toBe(102);
    expect(await metricValue(DEDUP_METRICS.deduplicated, { topic, store: 'redis' })).toBe(52);
  });
});
