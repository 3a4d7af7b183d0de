import { Kafka, logLevel } from 'kafkajs';
import { KAFKA_BROKER } from './kcat';
import { sleep } from './wait';

/**
 * Waits until consumer group `groupId` has committed every partition of `topic` up to its end
 * (lag 0), so a test checks the database only once nothing is left to consume.
 */
export async function waitForCaughtUp(
  groupId: string,
  topic: string,
  timeoutMs = 60_000,
): Promise<boolean> {
  const admin = new Kafka({ brokers: [KAFKA_BROKER], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const lag = ends.reduce((sum, end) => {
        const done =
          committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
        return sum + Math.max(0, Number(end.high) - Math.max(0, Number(done)));
      }, 0);
      if (lag === 0) return true;
      await sleep(200);
    }
    return false;
  } finally {
    await admin.disconnect();
  }
}

export { metricSum } from '../../scripts/demo/prometheus-text';
