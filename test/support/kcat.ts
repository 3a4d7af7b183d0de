import { execFileSync } from 'node:child_process';

/** The broker every e2e suite talks to (started by scripts/with-services.sh). */
export const KAFKA_BROKER = process.env.KAFKA_BROKER ?? '127.0.0.1:9092';

/** One record for {@link kcatProduce}. */
export interface KcatRecord {
  value: string;
  key?: string;
  headers?: Record<string, string>;
  partition?: number;
}

/**
 * Produces records with `kcat`, a client independent of kafkajs, so a test proves that what a real
 * producer writes reaches the Nest handler. Values must not contain newlines (one record per line).
 */
export function kcatProduce(topic: string, records: KcatRecord[]): void {
  // kcat reads one record per line; keys are split off with -K, headers are per invocation, so
  // records are grouped by (headers, partition).
  const groups = new Map<string, KcatRecord[]>();
  for (const record of records) {
    if (record.value.includes('\n')) throw new Error('kcatProduce: values must be single-line');
    const groupKey = JSON.stringify([record.headers ?? {}, record.partition ?? -1]);
    const list = groups.get(groupKey) ?? [];
    list.push(record);
    groups.set(groupKey, list);
  }
  // Keep the caller's order across groups when consecutive records share a group.
  let batch: KcatRecord[] = [];
  let batchKey = '';
  const flush = (): void => {
    if (batch.length === 0) return;
    const first = batch[0];
    const args = [
      '-b',
      KAFKA_BROKER,
      '-P',
      '-t',
      topic,
      '-K',
      '\t',
      '-X',
      'topic.partitioner=murmur2_random',
    ];
    for (const [name, value] of Object.entries(first.headers ?? {}))
      args.push('-H', `${name}=${value}`);
    if (first.partition !== undefined) args.push('-p', String(first.partition));
    const input = batch.map((r) => `${r.key ?? ''}\t${r.value}`).join('\n') + '\n';
    execFileSync('kcat', args, { input, timeout: 30_000 });
    batch = [];
  };
  for (const record of records) {
    const key = JSON.stringify([record.headers ?? {}, record.partition ?? -1]);
    if (key !== batchKey) flush();
    batchKey = key;
    batch.push(record);
  }
  flush();
}

/** Creates a topic with `partitions` partitions (idempotent) using kafkajs' admin client. */
export async function createTopic(topic: string, partitions = 1): Promise<void> {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({ brokers: [KAFKA_BROKER], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

/** A topic name no other run uses. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Waits until consumer group `groupId` is Stable with `members` members (Nest appends `-server` to
 * the groupId it is given), so a test produces only once every instance owns partitions.
 */
export async function waitForGroup(
  groupId: string,
  members: number,
  timeoutMs = 30_000,
): Promise<boolean> {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({ brokers: [KAFKA_BROKER], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { groups } = await admin.describeGroups([groupId]);
      if (groups[0]?.state === 'Stable' && groups[0].members.length === members) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Produces many records with per-record headers through one kafkajs producer (kcat takes headers
 * per invocation, so {@link kcatProduce} starts one process per distinct header set: too slow for
 * thousands of event ids). Values and header values may be strings or raw bytes.
 */
export async function produceMany(
  topic: string,
  records: Array<{
    value: string | Buffer;
    key?: string | Buffer;
    headers?: Record<string, string | Buffer>;
    partition?: number;
  }>,
): Promise<void> {
  const { Kafka, logLevel } = await import('kafkajs');
  const producer = new Kafka({ brokers: [KAFKA_BROKER], logLevel: logLevel.NOTHING }).producer({
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  try {
    for (let i = 0; i < records.length; i += 1_000) {
      await producer.send({ topic, acks: -1, messages: records.slice(i, i + 1_000) });
    }
  } finally {
    await producer.disconnect();
  }
}

/**
 * Produces one record whose header `name` is the raw `bytes` (e.g. `ff 01`, not valid UTF-8),
 * with kcat: the bytes go through the shell's printf, so no UTF-8 encoding of arguments alters
 * them. Bytes must not be 0 (a C string argument).
 */
export function kcatProduceBinaryHeader(
  topic: string,
  name: string,
  bytes: Buffer,
  value: string,
): void {
  if (bytes.includes(0)) throw new Error('kcatProduceBinaryHeader: no zero bytes');
  const escaped = [...bytes].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
  const script = `kcat -b "$1" -P -t "$2" -H "$3=$(printf '${escaped}')"`;
  execFileSync('bash', ['-c', script, 'kcat', KAFKA_BROKER, topic, name], {
    input: `${value}\n`,
    timeout: 30_000,
  });
}
