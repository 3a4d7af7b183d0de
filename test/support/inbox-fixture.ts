import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'pg';
import type { InboxConsumerSpec } from './inbox-app';
import { KAFKA_BROKER } from './kcat';

const ROOT = join(__dirname, '..', '..');
const OUT = join(ROOT, '.cache', 'inbox-fixture');
const MAIN = join(OUT, 'test', 'support', 'inbox-consumer.main.js');

/**
 * Compiles the consumer process (tsc keeps decorator metadata; tsx does not) into
 * .cache/inbox-fixture, where `@nest-resilience/kafka-dedup` (and the `@nest-resilience/common` it
 * imports) resolve to the compiled sources.
 */
export function buildInboxConsumer(): void {
  try {
    execFileSync(
      join(ROOT, 'node_modules', '.bin', 'tsc'),
      ['-p', join(__dirname, 'inbox-fixture.tsconfig.json')],
      { cwd: ROOT, stdio: 'pipe', timeout: 180_000 },
    );
  } catch (error) {
    // Type errors elsewhere in the tree do not stop the emit; a missing output does.
    if (!existsSync(MAIN)) throw error;
  }
  for (const lib of ['kafka-dedup', 'common']) {
    const link = join(OUT, 'node_modules', '@nest-resilience', lib);
    if (!existsSync(link)) {
      mkdirSync(join(OUT, 'node_modules', '@nest-resilience'), { recursive: true });
      symlinkSync(join(OUT, 'libs', lib, 'src'), link, 'dir');
    }
  }
}

/** One consumer process; `kill()` is a SIGKILL, as a crashed pod. */
export class InboxConsumerProcess {
  private child?: ChildProcess;
  starts = 0;

  constructor(readonly spec: Omit<InboxConsumerSpec, 'broker'>) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  async start(): Promise<void> {
    const log = openSync(join(ROOT, '.cache', `inbox-consumer-${this.spec.group}.log`), 'a');
    const child = spawn(
      process.execPath,
      [MAIN, JSON.stringify({ ...this.spec, broker: KAFKA_BROKER })],
      { cwd: ROOT, stdio: ['ignore', 'pipe', log] },
    );
    this.child = child;
    this.starts++;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('inbox consumer did not start')), 30_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`inbox consumer exited with ${code} (see .cache/inbox-consumer-*.log)`));
      });
      child.stdout!.on('data', (data: Buffer) => {
        if (data.toString().includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}

/** An event stream: `distinct` new ids, plus copies of earlier ids (on any partition). */
export interface InboxStream {
  ids: string[];
  copies: number;
  messages: Array<{ id: string; partition: number }>;
}

/** Builds a stream of `total` events of which about `copyRatio` are copies of earlier ids. */
export function inboxStream(total: number, partitions: number, copyRatio = 0.25): InboxStream {
  const ids: string[] = [];
  const messages: InboxStream['messages'] = [];
  let copies = 0;
  for (let i = 0; i < total; i++) {
    if (ids.length > 10 && Math.random() < copyRatio) {
      const id = ids[Math.floor(Math.random() * ids.length)];
      messages.push({ id, partition: Math.floor(Math.random() * partitions) });
      copies++;
    } else {
      const id = `evt-${ids.length}`;
      ids.push(id);
      messages.push({ id, partition: ids.length % partitions });
    }
  }
  return { ids, copies, messages };
}

/** Produces `messages` with kafkajs (`x-event-id` header, JSON value), in batches. */
export async function produceStream(
  topic: string,
  messages: InboxStream['messages'],
): Promise<void> {
  const { Kafka, logLevel } = await import('kafkajs');
  const producer = new Kafka({ brokers: [KAFKA_BROKER], logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 2_000) {
      await producer.send({
        topic,
        acks: -1,
        messages: messages.slice(i, i + 2_000).map((m) => ({
          partition: m.partition,
          headers: { 'x-event-id': m.id },
          value: JSON.stringify({ id: m.id }),
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Messages of `topic` not yet committed by consumer group `groupId`. */
export async function groupLag(groupId: string, topic: string): Promise<number> {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({ brokers: [KAFKA_BROKER], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    let lag = 0;
    for (const end of ends) {
      const done = committed.partitions.find((p) => p.partition === end.partition);
      const offset = Number(done?.offset ?? -1);
      lag += Number(end.high) - (offset < 0 ? 0 : offset);
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}

/** Rows of side_effects, distinct event ids among them, and ids with more than one row. */
export async function sideEffectCounts(
  pool: Pool,
): Promise<{ rows: number; distinct: number; duplicated: number }> {
  const { rows } = await pool.query<{ rows: string; distinct: string; duplicated: string }>(
    `SELECT count(*) AS rows, count(DISTINCT event_id) AS distinct,
       (SELECT count(*) FROM (SELECT 1 FROM side_effects GROUP BY event_id HAVING count(*) > 1) d) AS duplicated
     FROM side_effects`,
  );
  return {
    rows: Number(rows[0].rows),
    distinct: Number(rows[0].distinct),
    duplicated: Number(rows[0].duplicated),
  };
}
