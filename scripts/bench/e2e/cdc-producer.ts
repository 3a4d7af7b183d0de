/**
 * Producing the CDC stream of `npm run bench:e2e`: topics of the run and records sent in bounded
 * batches, each batch acknowledged by every in-sync replica (`acks: -1`).
 */
import { Kafka, logLevel, Partitioners, type Admin } from 'kafkajs';
import type { CdcRecord } from '../../demo/cdc-events';

/** A record with an optional explicit partition (copies spread to other partitions). */
export interface PlacedRecord extends CdcRecord {
  partition?: number;
}

export function kafkaClient(brokers: string[], clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 3000 },
  });
}

async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Creates `topic` (3 partitions unless told), waiting for its leaders. */
export function createTopic(
  kafka: Kafka,
  topic: string,
  options: { partitions?: number; replicationFactor?: number; minIsr?: number } = {},
): Promise<boolean> {
  return withAdmin(kafka, (admin) =>
    admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions: options.partitions ?? 3,
          replicationFactor: options.replicationFactor ?? 1,
          configEntries: options.minIsr
            ? [{ name: 'min.insync.replicas', value: String(options.minIsr) }]
            : [],
        },
      ],
    }),
  );
}

/** Deletes topics of this run (best effort: a leftover topic only costs disk). */
export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  await withAdmin(kafka, (admin) => admin.deleteTopics({ topics })).catch(() => undefined);
}

/** The leader broker id of each partition of `topic`. */
export function partitionLeaders(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  return withAdmin(kafka, async (admin) => {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return new Map(meta.topics[0].partitions.map((p) => [p.partitionId, p.leader]));
  });
}

/** Sends every record in batches of `batch`, awaiting each; returns the records' count. */
export async function produceAll(
  kafka: Kafka,
  topic: string,
  records: PlacedRecord[],
  batch = 1000,
): Promise<number> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (let i = 0; i < records.length; i += batch)
      await producer.send({ topic, acks: -1, messages: records.slice(i, i + batch) });
  } finally {
    await producer.disconnect();
  }
  return records.length;
}
