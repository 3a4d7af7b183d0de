import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { DedupChild } from './support/dedup-child';
import { createTopic, KAFKA_BROKER, kcatProduce, uniqueTopic } from './support/kcat';
import { REDIS_URL } from './support/redis-server';
import { waitFor } from './support/wait';

/**
 * A consumer process dies (SIGKILL) while its handler holds a claim. Its lease would block the
 * redelivered event for up to `leaseTtl` (30 s by default); the claim names its owner, whose
 * liveness record expires `ownerTtl` after the crash, so the next consumer takes the claim over.
 */
describe('kafka-dedup Redis store after a consumer crash (real processes, Kafka, Redis)', () => {
  const prefix = `kafka-dedup-crash:${Date.now()}:`;
  const dir = mkdtempSync(join(tmpdir(), 'dedup-crash-'));
  const children: DedupChild[] = [];
  // DEDUP_CRASH_OWNER_TTL=600000 reproduces the lease-only behaviour (how the "before" was measured).
  const ownerTtl = Number(process.env.DEDUP_CRASH_OWNER_TTL ?? 3_000);

  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop('SIGKILL')));
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('processes the redelivery of a crashed consumer’s claim once, within ownerTtl of the crash instead of the 30 s lease', async () => {
    const topic = uniqueTopic('dedup-crash');
    await createTopic(topic);
    const effectsFile = join(dir, `${topic}.effects`);
    const dedup = {
      store: 'redis' as const,
      group: 'billing', // the dedup scope: the same for both processes
      redis: { url: REDIS_URL, keyPrefix: prefix, ownerTtl },
    };
    kcatProduce(topic, [
      { value: '{"id":"stuck"}', headers: { 'x-event-id': 'stuck' } },
      { value: '{"id":"after"}', headers: { 'x-event-id': 'after' } },
    ]);
    const first = new DedupChild({
      topic,
      kafkaGroup: `${topic}-a`,
      dedup,
      effectsFile,
      blockIds: ['stuck'],
      broker: KAFKA_BROKER,
    });
    children.push(first);
    await first.start();
    expect(await waitFor(() => first.output.includes('blocking stuck'), 30_000)).toBe(true);
    const killedAt = Date.now();
    await first.stop('SIGKILL');

    // The next consumer (a fresh group, so Kafka hands it the event at once instead of after the
    // dead member's session timeout: the wait measured here is the store's alone).
    const second = new DedupChild({
      topic,
      kafkaGroup: `${topic}-b`,
      dedup,
      effectsFile,
      broker: KAFKA_BROKER,
      traceClaims: true,
    });
    children.push(second);
    await second.start();
    expect(await waitFor(() => second.effects().some((e) => e.id === 'after'), 60_000, 100)).toBe(
      true,
    );
    const effects = second.effects();
    const stuck = effects.filter((e) => e.id === 'stuck');
    expect(stuck).toHaveLength(1);
    expect(effects.filter((e) => e.id === 'after')).toHaveLength(1);
    // How long the redelivered event waited on the dead process's claim, from its first attempt.
    // (When the new consumer starts after ownerTtl, its first attempt already takes the claim over.)
    const firstAttempt = Number(/^claim stuck \S+ (\d+)$/m.exec(second.output)?.[1]);
    const stallMs = stuck[0].at - firstAttempt;
    console.log(
      `ownerTtl ${ownerTtl}: the redelivery waited ${stallMs} ms on the dead claim; processed ${stuck[0].at - killedAt} ms after the crash`,
    );
    expect(stallMs).toBeLessThan(ownerTtl + 500);
    // Well inside the 30 s lease even on a loaded machine (a new process needs seconds to start).
    expect(stuck[0].at - killedAt).toBeLessThan(20_000);
  }, 120_000);
});
