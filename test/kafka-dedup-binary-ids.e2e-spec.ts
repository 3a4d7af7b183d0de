import { INestMicroservice } from '@nestjs/common';
import { Redis } from 'ioredis';
import { register } from 'prom-client';
import { DEDUP_METRICS } from '@nest-resilience/kafka-dedup';
import { startDedupApp } from './support/dedup-app';
import { createTopic, kcatProduceBinaryHeader, uniqueTopic } from './support/kcat';
import { metricValue } from './support/metrics';
import { REDIS_URL } from './support/redis-server';
import { sleep, waitFor } from './support/wait';

const FF01 = Buffer.from([0xff, 0x01]);
const FE01 = Buffer.from([0xfe, 0x01]);

/** Two different binary ids (not UTF-8) and a true copy of the first, produced with kcat. */
function produceBinaryIds(topic: string): void {
  kcatProduceBinaryHeader(topic, 'x-event-id', FF01, '{"n":1}');
  kcatProduceBinaryHeader(topic, 'x-event-id', FE01, '{"n":2}');
  kcatProduceBinaryHeader(topic, 'x-event-id', FF01, '{"n":3}');
  kcatProduceBinaryHeader(topic, 'x-event-id', Buffer.from('end'), '{"n":4}');
}

describe('kafka-dedup with event ids that are not UTF-8 (real Kafka, kcat)', () => {
  let app: INestMicroservice | undefined;
  const prefix = `kafka-dedup-binary:${Date.now()}:`;

  beforeEach(() => register.clear());
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  afterAll(async () => {
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it("on Nest's stock Kafka server, ids decoded lossily are refused (counted), never collapsed: no event is lost", async () => {
    const topic = uniqueTopic('dedup-binary-stock');
    await createTopic(topic);
    const seen: number[] = [];
    app = await startDedupApp({
      topic,
      group: `${topic}-g`,
      dedup: {},
      behaviour: (value) => void seen.push((value as { n: number }).n),
    });
    produceBinaryIds(topic);
    expect(await waitFor(() => seen.includes(4))).toBe(true);
    await sleep(200);
    // ff 01 and fe 01 both arrive as "\uFFFD\u0001": deduplicating that text would drop n=2.
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(await metricValue(DEDUP_METRICS.missingKeys, { topic })).toBe(3);
  });

  it('on BinarySafeServerKafka, the raw bytes are the ids: ff 01 and fe 01 both run, the copy of ff 01 is skipped (Redis store)', async () => {
    const topic = uniqueTopic('dedup-binary-safe');
    await createTopic(topic);
    const seen: number[] = [];
    app = await startDedupApp({
      topic,
      group: `${topic}-g`,
      server: 'binary-safe',
      dedup: { store: 'redis', redis: { url: REDIS_URL, keyPrefix: prefix } },
      behaviour: (value) => void seen.push((value as { n: number }).n),
    });
    produceBinaryIds(topic);
    expect(await waitFor(() => seen.includes(4))).toBe(true);
    await sleep(200);
    expect(seen).toEqual([1, 2, 4]);
    expect(await metricValue(DEDUP_METRICS.deduplicated, { topic })).toBe(1);
    expect(await metricValue(DEDUP_METRICS.missingKeys, { topic })).toBe(0);
  });
});
