import { INestMicroservice } from '@nestjs/common';
import { register } from 'prom-client';
import { DEDUP_METRICS } from '@nest-resilience/kafka-dedup';
import { createTopic, kcatProduce, uniqueTopic, type KcatRecord } from './support/kcat';
import { CapturingLogger, SideEffects, startConsumer } from './support/dedup-consumer';
import { metricValue } from './support/metrics';
import { sleep, waitFor } from './support/wait';

interface UserEvent {
  id: string;
  seq: number;
}

describe('kafka-dedup with the memory store (real Kafka, kcat producer)', () => {
  let app: INestMicroservice | undefined;

  beforeEach(() => register.clear());
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('runs the side effect exactly once per event id when ~25% of messages are duplicates', async () => {
    const topic = uniqueTopic('dedup-mem');
    await createTopic(topic);
    const effects = new SideEffects();
    let deliveries = 0;
    app = await startConsumer({
      topic,
      group: `${topic}-g`,
      dedup: {},
      behaviour: (value) => {
        deliveries++;
        effects.record((value as UserEvent).id);
      },
    });
    const records: KcatRecord[] = [];
    for (let i = 0; i < 300; i++) {
      const id = i % 4 === 3 ? `evt-${i - 1 - (i % 7)}` : `evt-${i}`; // every 4th repeats a recent id
      records.push({ value: JSON.stringify({ id, seq: i }), headers: { 'x-event-id': id } });
    }
    kcatProduce(topic, records);
    const unique = new Set(records.map((r) => r.headers!['x-event-id'])).size;
    expect(unique).toBeLessThan(300 * 0.8);
    await waitFor(async () => (await metricValue(DEDUP_METRICS.deduplicated)) + deliveries >= 300);
    await sleep(300); // nothing else may arrive
    expect(effects.counts.size).toBe(unique);
    expect(effects.repeated()).toEqual([]);
    expect(await metricValue(DEDUP_METRICS.processed, { topic, store: 'memory' })).toBe(unique);
    // At least every repeated id; a rebalance may redeliver a few more (also skipped).
    expect(
      await metricValue(DEDUP_METRICS.deduplicated, { topic, store: 'memory' }),
    ).toBeGreaterThanOrEqual(300 - unique);
  });

  it('redelivers a message whose handler threw, processes it exactly once, and logs the failure once', async () => {
    const topic = uniqueTopic('dedup-retry');
    await createTopic(topic);
    const effects = new SideEffects();
    const attempts = new Map<string, number>();
    const logger = new CapturingLogger();
    app = await startConsumer({
      topic,
      group: `${topic}-g`,
      dedup: {},
      logger,
      behaviour: (value) => {
        const id = (value as UserEvent).id;
        attempts.set(id, (attempts.get(id) ?? 0) + 1);
        if (id === 'evt-flaky' && attempts.get(id) === 1) throw new Error('transient failure');
        effects.record(id);
      },
    });
    kcatProduce(topic, [
      { value: '{"id":"evt-a"}', headers: { 'x-event-id': 'evt-a' } },
      { value: '{"id":"evt-flaky"}', headers: { 'x-event-id': 'evt-flaky' } },
      { value: '{"id":"evt-flaky"}', headers: { 'x-event-id': 'evt-flaky' } },
      { value: '{"id":"evt-b"}', headers: { 'x-event-id': 'evt-b' } },
    ]);
    expect(await waitFor(() => effects.counts.has('evt-b'))).toBe(true);
    await sleep(300);
    expect(attempts.get('evt-flaky')).toBe(2); // the failure released the claim: redelivery ran
    expect(Object.fromEntries(effects.counts)).toEqual({ 'evt-a': 1, 'evt-flaky': 1, 'evt-b': 1 });
    // One line for the failed attempt, with topic, partition, offset and the error.
    const failures = logger.errors('transient failure');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain(`"topic":"${topic}","partition":0,"offset":"1"`);
  });

  it('logs and skips an event without id under onMissingKey: error, without blocking its partition', async () => {
    const topic = uniqueTopic('dedup-nokey-error');
    await createTopic(topic);
    const seen: string[] = [];
    const logger = new CapturingLogger();
    app = await startConsumer({
      topic,
      group: `${topic}-g`,
      dedup: { onMissingKey: 'error' },
      logger,
      behaviour: (value) => void seen.push((value as UserEvent).id),
    });
    kcatProduce(topic, [
      { value: '{"id":"no-header"}' },
      { value: '{"id":"later"}', headers: { 'x-event-id': 'later' } },
    ]);
    expect(await waitFor(() => seen.includes('later'))).toBe(true);
    await sleep(300);
    expect(seen).toEqual(['later']); // skipped once, never redelivered
    expect(await metricValue(DEDUP_METRICS.missingKeys, { topic })).toBe(1);
    expect(logger.errors('no event id')).toEqual([
      expect.stringContaining(
        `${topic}[0]@0 (no "x-event-id" header): skipped (onMissingKey: error)`,
      ),
    ]);
  });

  it('processes an id once when its copies arrive on two partitions at the same time', async () => {
    const topic = uniqueTopic('dedup-inflight');
    await createTopic(topic, 2);
    const effects = new SideEffects();
    let running = 0;
    let maxRunning = 0;
    app = await startConsumer({
      topic,
      group: `${topic}-g`,
      dedup: { leaseTtl: 5_000 },
      run: { partitionsConsumedConcurrently: 2 },
      behaviour: async (value) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(400); // slow handler: the second copy arrives while the first is in flight
        effects.record((value as UserEvent).id);
        running--;
      },
    });
    kcatProduce(topic, [
      { value: '{"id":"evt-same"}', headers: { 'x-event-id': 'evt-same' }, partition: 0 },
      { value: '{"id":"evt-same"}', headers: { 'x-event-id': 'evt-same' }, partition: 1 },
    ]);
    expect(
      await waitFor(async () => (await metricValue(DEDUP_METRICS.deduplicated)) === 1, 15_000),
    ).toBe(true);
    expect(Object.fromEntries(effects.counts)).toEqual({ 'evt-same': 1 });
    expect(await metricValue(DEDUP_METRICS.inFlightConflicts, { topic })).toBe(1);
    expect(maxRunning).toBe(1);
  });

  it('processes a message without an event id (onMissingKey: process) and keeps consuming', async () => {
    const topic = uniqueTopic('dedup-nokey');
    await createTopic(topic);
    const seen: string[] = [];
    app = await startConsumer({
      topic,
      group: `${topic}-g`,
      dedup: {},
      behaviour: (value) => void seen.push((value as UserEvent).id),
    });
    kcatProduce(topic, [
      { value: '{"id":"no-header"}' },
      { value: '{"id":"with-header"}', headers: { 'x-event-id': 'h1' } },
    ]);
    expect(await waitFor(() => seen.length === 2)).toBe(true);
    expect(seen).toEqual(['no-header', 'with-header']);
    expect(await metricValue(DEDUP_METRICS.missingKeys, { topic })).toBe(1);
  });

  it('skips a malformed value when the key is a JSON path (onMissingKey: skip) without blocking the partition', async () => {
    const topic = uniqueTopic('dedup-malformed');
    await createTopic(topic);
    const seen: unknown[] = [];
    app = await startConsumer({
      topic,
      group: `${topic}-g`,
      dedup: { key: { from: 'value', path: ['source.lsn', 'source.txId'] }, onMissingKey: 'skip' },
      behaviour: (value) => void seen.push(value),
    });
    const change = (lsn: number, tx: number, op: string): string =>
      JSON.stringify({ op, after: { id: 7 }, source: { lsn, txId: tx } });
    kcatProduce(topic, [
      { value: change(100, 1, 'c') },
      { value: 'this is {not json' },
      { value: change(100, 1, 'c') }, // Debezium redelivery after a connector restart
      { value: '{"op":"u","source":{}}' }, // JSON without the path
      { value: change(101, 1, 'u') },
    ]);
    expect(await waitFor(() => seen.length >= 2)).toBe(true);
    await sleep(500);
    expect(seen.map((v) => (v as { source: { lsn: number } }).source.lsn)).toEqual([100, 101]);
    expect(await metricValue(DEDUP_METRICS.missingKeys, { topic })).toBe(2);
    expect(await metricValue(DEDUP_METRICS.deduplicated, { topic })).toBe(1);
  });

  it.each([
    ['global', 2, 1],
    ['skip', 3, 0],
  ] as const)(
    'applyToAllHandlers covers undecorated handlers and spares @SkipDeduplication ones (%s: %d runs, %d skipped)',
    async (mode, runs, skipped) => {
      const topic = uniqueTopic(`dedup-all-${mode}`);
      await createTopic(topic);
      const effects = new SideEffects();
      app = await startConsumer({
        topic,
        group: `${topic}-g`,
        mode,
        dedup: { applyToAllHandlers: true },
        behaviour: (value) => effects.record((value as UserEvent).id),
      });
      kcatProduce(topic, [
        { value: '{"id":"x"}', headers: { 'x-event-id': 'x' } },
        { value: '{"id":"x"}', headers: { 'x-event-id': 'x' } },
        { value: '{"id":"y"}', headers: { 'x-event-id': 'y' } },
      ]);
      expect(await waitFor(() => effects.counts.has('y'))).toBe(true);
      await sleep(300);
      expect(effects.total).toBe(runs);
      expect(await metricValue(DEDUP_METRICS.deduplicated, { topic })).toBe(skipped);
    },
  );

  it('does not deduplicate when disabled (ttl: 0, the rollback knob)', async () => {
    const topic = uniqueTopic('dedup-off');
    await createTopic(topic);
    const effects = new SideEffects();
    app = await startConsumer({
      topic,
      group: `${topic}-g`,
      dedup: { ttl: 0 },
      behaviour: (value) => effects.record((value as UserEvent).id),
    });
    kcatProduce(topic, [
      { value: '{"id":"x"}', headers: { 'x-event-id': 'x' } },
      { value: '{"id":"x"}', headers: { 'x-event-id': 'x' } },
    ]);
    expect(await waitFor(() => effects.total === 2)).toBe(true);
  });
});
