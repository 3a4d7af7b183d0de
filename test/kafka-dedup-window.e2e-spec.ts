import { INestMicroservice } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { register } from 'prom-client';
import {
  DEDUP_METRICS,
  DedupEvictionPolicyError,
  DedupHealthIndicator,
  DedupModule,
  DedupService,
  DedupWindow,
  type DedupModuleOptions,
} from '@nest-resilience/kafka-dedup';
import { CapturingLogger, SideEffects, startConsumer } from './support/dedup-consumer';
import { freePort } from '../scripts/support/free-port';
import { createTopic, uniqueTopic, waitForGroup } from './support/kcat';
import { KcatStream } from './support/kcat-stream';
import { metricValue } from './support/metrics';
import { PrivateRedisCluster } from './support/redis-cluster';
import { PrivateRedis } from './support/redis-server';
import { sleep, waitFor } from './support/wait';

/**
 * CI size: a table of 3,000 ids fed 300 new ids/s (a 10 s window) for 30 s. The full size
 * (KAFKA_DEDUP_WINDOW_FULL=1): 100,000 ids at 5,000/s (a 20 s window) for 60 s.
 */
const FULL = process.env.KAFKA_DEDUP_WINDOW_FULL === '1';
const SIZE = FULL
  ? { entries: 100_000, rate: 5_000, seconds: 60, farDelay: 40 }
  : { entries: 3_000, rate: 300, seconds: 30, farDelay: 20 };
/** The window the table should hold at that rate, in seconds. */
const WINDOW = SIZE.entries / SIZE.rate;
/** Copies sent back this long after their original: well inside the window, in the (2, 5] bucket. */
const NEAR_DELAY = 3.5;
const NEAR_COPIES = 20;
const FAR_COPIES = 10;
const WARNING_INTERVAL_MS = 5_000;
const TTL = 3_600_000;

/** Line of the early-eviction warning, with when it was logged. */
class TimedLogger extends CapturingLogger {
  readonly warnings: Array<{ at: number; text: string }> = [];
  override warn(message: unknown): void {
    super.warn(message);
    this.warnings.push({ at: Date.now(), text: String(message) });
  }
  windowWarnings(): Array<{ at: number; text: string }> {
    return this.warnings.filter((w) => w.text.includes('the dedup window is'));
  }
}

/** Bucket counts of the duplicate-age histogram, by upper bound. */
async function ageBuckets(store: string): Promise<Map<number | string, number>> {
  const metric = register.getSingleMetric(DEDUP_METRICS.duplicateAge);
  const out = new Map<number | string, number>();
  if (!metric) return out;
  for (const v of (await metric.get()).values) {
    const labels = v.labels as Record<string, string | number>;
    if (labels.store !== store) continue;
    if (labels.le !== undefined) out.set(labels.le, v.value);
    else if ((v as { metricName?: string }).metricName?.endsWith('_count'))
      out.set('count', v.value);
  }
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

describe(`kafka-dedup: the dedup window (${FULL ? 'full size' : 'CI size'}; real Kafka, kcat, real Redis)`, () => {
  beforeEach(() => register.clear());

  describe('memory store, real Nest consumer', () => {
    let app: INestMicroservice | undefined;
    afterEach(async () => {
      await app?.close();
      app = undefined;
    });

    it(
      `reads ~maxEntries / rate as the window, catches copies younger than it into the right age bucket, and warns once per interval`,
      async () => {
        const topic = uniqueTopic('dedup-window');
        await createTopic(topic);
        const effects = new SideEffects();
        const logger = new TimedLogger();
        const dedup: DedupModuleOptions = {
          ttl: TTL,
          maxEntries: SIZE.entries,
          key: { from: 'value', path: 'id' },
          windowWarningIntervalMs: WARNING_INTERVAL_MS,
        };
        app = await startConsumer({
          topic,
          group: `${topic}-g`,
          dedup,
          logger,
          behaviour: (value) => effects.record((value as { id: string }).id),
        });
        expect(await waitForGroup(`${topic}-g-server`, 1)).toBe(true);

        // Steady production: the ids due by now, every 20 ms; copies at their planned times.
        const stream = new KcatStream(topic);
        const nearAt = Array.from({ length: NEAR_COPIES }, (_, k) => WINDOW + 2 + k * 0.4);
        const farAt = Array.from({ length: FAR_COPIES }, (_, k) => SIZE.seconds - 3 + k * 0.2);
        const nearIds: string[] = [];
        const farIds: string[] = [];
        const gaugeSamples: number[] = [];
        const started = Date.now();
        let sent = 0;
        let nextSample = 1.5 * WINDOW + 1;
        for (;;) {
          const elapsed = (Date.now() - started) / 1000;
          if (elapsed >= SIZE.seconds) break;
          const due = Math.floor(elapsed * SIZE.rate);
          const lines: string[] = [];
          for (; sent < due; sent++) lines.push(JSON.stringify({ id: `o-${sent}` }));
          while (nearAt.length > 0 && nearAt[0] <= elapsed) {
            const id = `o-${Math.floor((nearAt.shift()! - NEAR_DELAY) * SIZE.rate)}`;
            nearIds.push(id);
            lines.push(JSON.stringify({ id, copy: true }));
          }
          while (farAt.length > 0 && farAt[0] <= elapsed) {
            const id = `o-${Math.floor((farAt.shift()! - SIZE.farDelay) * SIZE.rate)}`;
            farIds.push(id);
            lines.push(JSON.stringify({ id, copy: true }));
          }
          stream.write(lines);
          if (elapsed >= nextSample) {
            nextSample += 1;
            gaugeSamples.push(await metricValue(DEDUP_METRICS.windowSeconds, { store: 'memory' }));
          }
          await sleep(20);
        }
        const health = await app.get(DedupHealthIndicator).isHealthy('dedup');
        await stream.close();
        const total = sent + NEAR_COPIES + FAR_COPIES;
        expect(
          await waitFor(
            async () =>
              (await metricValue(DEDUP_METRICS.processed)) +
                (await metricValue(DEDUP_METRICS.deduplicated)) >=
              total,
            30_000,
          ),
        ).toBe(true);

        // The window: capacity / rate, within 20%.
        expect(gaugeSamples.length).toBeGreaterThanOrEqual(5);
        expect(median(gaugeSamples)).toBeGreaterThan(WINDOW * 0.8);
        expect(median(gaugeSamples)).toBeLessThan(WINDOW * 1.2);

        // Copies younger than the window were caught; those older ran their handler again.
        expect(nearIds).toHaveLength(NEAR_COPIES);
        expect(farIds).toHaveLength(FAR_COPIES);
        for (const id of nearIds) expect([id, effects.counts.get(id)]).toEqual([id, 1]);
        for (const id of farIds) expect([id, effects.counts.get(id)]).toEqual([id, 2]);
        expect(effects.counts.size).toBe(sent);

        // Each caught copy is in the histogram, in the (2, 5] s bucket (NEAR_DELAY = 3.5 s).
        const buckets = await ageBuckets('memory');
        expect(buckets.get(5)! - buckets.get(2)!).toBe(NEAR_COPIES);
        expect(buckets.get('count')).toBe(
          await metricValue(DEDUP_METRICS.deduplicated, { topic, store: 'memory' }),
        );

        // Thousands of early evictions, a few warning lines: the first within a second or two of
        // the table filling up, then one per interval.
        const early = await metricValue(DEDUP_METRICS.earlyEvictions, { store: 'memory' });
        expect(early).toBeGreaterThan(SIZE.rate * (SIZE.seconds - WINDOW) * 0.8);
        const warnings = logger.windowWarnings();
        const evictingSeconds = SIZE.seconds - WINDOW;
        expect(warnings.length).toBeGreaterThanOrEqual(2);
        expect(warnings.length).toBeLessThanOrEqual(
          Math.ceil((evictingSeconds * 1000) / WARNING_INTERVAL_MS) + 2,
        );
        for (let i = 1; i < warnings.length; i++) {
          expect(warnings[i].at - warnings[i - 1].at).toBeGreaterThanOrEqual(
            WARNING_INTERVAL_MS - 50,
          );
        }
        const first = warnings[0].text;
        expect(first).toContain('shorter than the ttl of 3600 s');
        expect(first).toContain(`to respect maxEntries ${SIZE.entries}`);
        const rate = Number(/~(\d+) new ids\/s/.exec(first)?.[1]);
        expect(rate).toBeGreaterThan(SIZE.rate * 0.7);
        expect(rate).toBeLessThan(SIZE.rate * 1.3);
        expect(first).toMatch(
          /To remember the whole ttl at this rate: maxEntries: \d+ \(~[\d.]+ MiB\)/,
        );

        // The health indicator reports the short window (ttl given: minWindowSeconds = ttl).
        expect(health.dedup.status).toBe('degraded');
        expect(health.dedup.minWindowSeconds).toBe(3_600);
        expect(health.dedup.windowSeconds).toBeGreaterThan(WINDOW * 0.7);
        expect(health.dedup.windowSeconds).toBeLessThan(WINDOW * 1.3);
        expect(String(health.dedup.message)).toMatch(/below minWindowSeconds 3600 s/);
      },
      90_000 + SIZE.seconds * 1_000,
    );
  });

  describe('Redis maxmemory-policy, checked at bootstrap', () => {
    let redis: PrivateRedis;
    let admin: Redis;
    const modules: TestingModule[] = [];

    beforeAll(async () => {
      redis = new PrivateRedis(await freePort(), [
        '--maxmemory',
        '64mb',
        '--maxmemory-policy',
        'allkeys-lru',
      ]);
      await redis.start();
      admin = new Redis(redis.url, { lazyConnect: true });
      await admin.connect();
    });
    afterAll(async () => {
      admin?.disconnect();
      await redis?.stop();
    });
    afterEach(async () => {
      for (const moduleRef of modules.splice(0)) await moduleRef.close();
    });

    /** Boots the dedup module alone (the store's bootstrap check runs in init). */
    async function boot(
      options: DedupModuleOptions,
      logger = new CapturingLogger(),
    ): Promise<TestingModule> {
      const moduleRef = await Test.createTestingModule({
        imports: [DedupModule.forRoot({ cleanupCron: false, ...options })],
      }).compile();
      moduleRef.useLogger(logger);
      modules.push(moduleRef);
      await moduleRef.init();
      return moduleRef;
    }

    async function startError(options: DedupModuleOptions): Promise<DedupEvictionPolicyError> {
      const error = await boot(options).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DedupEvictionPolicyError);
      return error as DedupEvictionPolicyError;
    }

    it('allkeys-lru fails the start naming the setting, its value and the override', async () => {
      const error = await startError({ store: 'redis', redis: { url: redis.url } });
      expect(error.message).toContain(
        `Redis 127.0.0.1:${redis.port} has maxmemory-policy allkeys-lru (maxmemory 67108864 bytes)`,
      );
      expect(error.message).toContain('set maxmemory-policy noeviction');
      expect(error.message).toContain('redis.allowEvictingPolicy: true');
      expect(error.policy).toBe('allkeys-lru');
    });

    it('volatile-* fails too: every dedup key has a TTL', async () => {
      await admin.config('SET', 'maxmemory-policy', 'volatile-lru');
      try {
        expect((await startError({ store: 'redis', redis: { url: redis.url } })).policy).toBe(
          'volatile-lru',
        );
      } finally {
        await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      }
    });

    it('with redis.allowEvictingPolicy it starts, warns, and marks the window unreliable; duplicate ages are measured with PTTL', async () => {
      const logger = new CapturingLogger();
      const moduleRef = await boot(
        {
          store: 'redis',
          ttl: 60_000,
          // The v1 layout's done record is the id's own key: its PTTL gives the exact age (a v2
          // group's gives it to within a bucket, 16 s here).
          redis: {
            url: redis.url,
            allowEvictingPolicy: true,
            keyPrefix: uniqueTopic('win'),
            layout: 'v1',
          },
        },
        logger,
      );
      expect(await metricValue(DEDUP_METRICS.windowReliable, { store: 'redis' })).toBe(0);
      expect(await metricValue(DEDUP_METRICS.windowSeconds, { store: 'redis' })).toBe(60);
      expect(moduleRef.get(DedupWindow).report().windowReliable).toBe(false);
      const warning = logger.lines.find(
        (l) => l.level === 'warn' && l.text.includes('allkeys-lru'),
      );
      expect(warning?.text).toMatch(/starting anyway \(redis.allowEvictingPolicy\)/);

      const dedup = moduleRef.get(DedupService);
      const first = await dedup.acquire('evt-1');
      await dedup.commit(first);
      await sleep(1_300);
      expect((await dedup.acquire('evt-1')).action).toBe('skip');
      expect(await waitFor(async () => (await ageBuckets('redis')).get('count') === 1, 5_000)).toBe(
        true,
      );
      const buckets = await ageBuckets('redis');
      expect(buckets.get(1)).toBe(0);
      expect(buckets.get(2)).toBe(1); // ~1.3 s old
    });

    it('noeviction starts, and the window is reliable', async () => {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      try {
        const moduleRef = await boot({ store: 'redis', redis: { url: redis.url } });
        expect(moduleRef.get(DedupWindow).report()).toMatchObject({
          windowSeconds: 3_600,
          windowReliable: true,
        });
        expect(await metricValue(DEDUP_METRICS.windowReliable, { store: 'redis' })).toBe(1);
      } finally {
        await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      }
    });

    it('a renamed CONFIG command: warns, starts, and the window is unverified', async () => {
      const hidden = new PrivateRedis(await freePort(), ['--rename-command', 'CONFIG', 'cfg-x']);
      await hidden.start();
      try {
        const logger = new CapturingLogger();
        const moduleRef = await boot({ store: 'redis', redis: { url: hidden.url } }, logger);
        expect(
          logger.lines.some(
            (l) => l.level === 'warn' && l.text.includes('could not read maxmemory-policy'),
          ),
        ).toBe(true);
        expect(moduleRef.get(DedupWindow).report().windowReliable).toBe(false);
      } finally {
        await hidden.stop();
      }
    });
  });

  describe('Redis Cluster: every master is checked', () => {
    const cluster = new PrivateRedisCluster(17900 + Math.floor(Math.random() * 30) * 3);
    beforeAll(() => cluster.start(), 60_000);
    afterAll(() => cluster.stop());

    it('one master with volatile-ttl fails the start naming that master; all noeviction starts', async () => {
      const port = cluster.ports[1];
      const node = new Redis(port, '127.0.0.1');
      try {
        await node.config('SET', 'maxmemory-policy', 'volatile-ttl');
        const options = {
          store: 'redis' as const,
          cleanupCron: false as const,
          redis: { cluster: { nodes: cluster.nodes } },
        };
        const failing = await Test.createTestingModule({
          imports: [DedupModule.forRoot(options)],
        }).compile();
        failing.useLogger(false);
        const error = await failing.init().then(
          () => undefined,
          (e: unknown) => e as DedupEvictionPolicyError,
        );
        await failing.close();
        expect(error).toBeInstanceOf(DedupEvictionPolicyError);
        expect(error!.node).toBe(`127.0.0.1:${port}`);
        expect(error!.policy).toBe('volatile-ttl');

        await node.config('SET', 'maxmemory-policy', 'noeviction');
        register.clear();
        const ok = await Test.createTestingModule({
          imports: [DedupModule.forRoot(options)],
        }).compile();
        try {
          await ok.init();
          expect(ok.get(DedupWindow).report().windowReliable).toBe(true);
        } finally {
          await ok.close();
        }
      } finally {
        node.disconnect();
      }
    });
  });
});
