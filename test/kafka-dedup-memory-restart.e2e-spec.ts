import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DedupChild, type Effect } from './support/dedup-child';
import {
  createTopic,
  KAFKA_BROKER,
  produceMany,
  uniqueTopic,
  type KcatRecord,
} from './support/kcat';
import { waitFor } from './support/wait';

const UNIQUE = 3_000;
const SNAPSHOT_INTERVAL_MS = 1_000;

/** 3,000 distinct ids, then copies of the first 1,000 (ids a restarted store must still know). */
function stream(): KcatRecord[] {
  const ids = [
    ...Array.from({ length: UNIQUE }, (_, i) => `e${i}`),
    ...Array.from({ length: 1_000 }, (_, i) => `e${i}`),
  ];
  return ids.map((id) => ({ value: JSON.stringify({ id }), headers: { 'x-event-id': id } }));
}

function duplicates(effects: Effect[]): number {
  return effects.length - new Set(effects.map((e) => e.id)).size;
}

/**
 * The memory store snapshots its done ids to a file (at shutdown and every snapshotIntervalMs)
 * and loads them at start, so a restarted consumer does not process again what it already did.
 */
describe('kafka-dedup memory store across a consumer restart (real processes, Kafka)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dedup-restart-'));
  const children: DedupChild[] = [];

  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  });

  async function restartMidStream(signal: NodeJS.Signals): Promise<{
    effects: Effect[];
    stoppedAt: number;
  }> {
    const topic = uniqueTopic(`dedup-restart-${signal.toLowerCase()}`);
    await createTopic(topic);
    await produceMany(topic, stream());
    const spec = {
      topic,
      kafkaGroup: `${topic}-g`,
      dedup: {
        memory: {
          snapshotPath: join(dir, `${topic}.snapshot`),
          snapshotIntervalMs: SNAPSHOT_INTERVAL_MS,
        },
      },
      effectsFile: join(dir, `${topic}.effects`),
      delayMs: 1,
      broker: KAFKA_BROKER,
    };
    const first = new DedupChild(spec);
    children.push(first);
    await first.start();
    expect(await waitFor(() => first.effects().length >= 1_000, 60_000, 20)).toBe(true);
    const stoppedAt = Date.now();
    await first.stop(signal);
    const second = new DedupChild(spec);
    children.push(second);
    await second.start();
    // Done when every id has run and the copies at the end of the stream have been consumed.
    expect(
      await waitFor(() => new Set(second.effects().map((e) => e.id)).size === UNIQUE, 90_000, 200),
    ).toBe(true);
    await new Promise((r) => setTimeout(r, 1_500));
    await second.stop('SIGTERM');
    return { effects: second.effects(), stoppedAt };
  }

  it('SIGTERM mid-stream, then restart: no side effect runs twice', async () => {
    const { effects } = await restartMidStream('SIGTERM');
    console.log(`SIGTERM: ${effects.length} side effects, ${duplicates(effects)} duplicates`);
    expect(duplicates(effects)).toBe(0);
  }, 180_000);

  it('SIGKILL mid-stream, then restart: only ids processed after the last snapshot run twice', async () => {
    const { effects, stoppedAt } = await restartMidStream('SIGKILL');
    // The last snapshot was taken at most one interval (plus timer slack) before the kill.
    const sinceLastSnapshot = effects.filter(
      (e) => e.at <= stoppedAt && e.at > stoppedAt - SNAPSHOT_INTERVAL_MS - 300,
    ).length;
    const dups = duplicates(effects);
    console.log(
      `SIGKILL: ${effects.length} side effects, ${dups} duplicates (${sinceLastSnapshot} ran in the last snapshot interval before the kill)`,
    );
    expect(dups).toBeLessThanOrEqual(sinceLastSnapshot);
  }, 180_000);
});
