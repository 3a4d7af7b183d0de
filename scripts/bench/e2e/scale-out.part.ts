/**
 * Part 2 of `npm run bench:e2e`: 1, 2 and 3 user-service processes in one consumer group, sharing
 * Redis, then the PostgreSQL inbox (one database). Every redelivered copy is produced to another
 * partition than its original, so original and copy usually reach different processes at about the
 * same time: only a store shared by the group keeps the second one out.
 */
import { cdcStream } from '../../demo/cdc-events';
import {
  createTopic,
  deleteTopics,
  kafkaClient,
  produceAll,
  type PlacedRecord,
} from './cdc-producer';
import type { E2eSize } from './e2e.size';
import type { ScaleOutRow } from './e2e.results';
import {
  BROKER,
  REDIS_URL,
  RUN,
  countRows,
  createDatabase,
  quiesce,
  say,
  sleep,
  until,
  UserServiceProcess,
} from './e2e.support';

const PARTITIONS = 3;

/** The stream with explicit partitions: originals round-robin, each copy on the next partition. */
export function spreadCopies(records: { key: string; value: string }[]): PlacedRecord[] {
  const placed = new Map<string, number>();
  let n = 0;
  return records.map((r) => {
    const first = placed.get(r.value);
    if (first === undefined) {
      const partition = n++ % PARTITIONS;
      placed.set(r.value, partition);
      return { ...r, partition };
    }
    return { ...r, partition: (first + 1) % PARTITIONS };
  });
}

async function runOnce(
  store: 'redis' | 'inbox',
  processes: number,
  size: E2eSize,
  logDir: string,
): Promise<ScaleOutRow> {
  const kafka = kafkaClient([BROKER], `bench-e2e-${RUN}`);
  const topic = `bench-e2e-${RUN}-scale-${store}-${processes}`;
  const db = await createDatabase(`scale_${store}_${processes}`);
  const changes = Math.round(size.scaleOutEvents / 1.2);
  const records = spreadCopies(
    cdcStream({ changes, duplicateRatio: 0.2, idPrefix: `s${processes}`, seed: 11 }).records,
  );
  await createTopic(kafka, topic, { partitions: PARTITIONS });
  const env = {
    DATABASE_URL: db.url,
    KAFKA_BROKERS: BROKER,
    CDC_TOPIC: topic,
    KAFKA_GROUP_ID: `bench-e2e-${RUN}-scale-${store}-${processes}`,
    KAFKA_DEDUP_TTL_SECONDS: '900',
    ...(store === 'redis'
      ? { KAFKA_DEDUP_STORE: 'redis', KAFKA_DEDUP_REDIS_URL: REDIS_URL }
      : { KAFKA_DEDUP_STORE: 'postgres' }),
  };
  const apps = Array.from(
    { length: processes },
    (_, i) => new UserServiceProcess(`scale-${store}-${processes}-${i + 1}`, env, logDir),
  );
  try {
    // one after the other (each start runs the migrations), then the group settles
    for (const app of apps) await app.start();
    await quiesce(db.name);
    await sleep(3000 + 1000 * processes);
    const t0 = Date.now();
    await produceAll(kafka, topic, records);
    const handled = async (): Promise<number> =>
      (await Promise.all(apps.map((a) => a.handled(topic).catch(() => 0)))).reduce(
        (a, b) => a + b,
        0,
      );
    const drained = await until(async () => (await handled()) >= records.length, 180_000, 200);
    const seconds = (Date.now() - t0) / 1000;
    if (!drained)
      say(`scale-out ${store} x${processes}: not drained (${await handled()}/${records.length})`);
    await Promise.all(apps.map((a) => a.stop()));
    const counted = await countRows(db.name, topic);
    return {
      store,
      processes,
      produced: records.length,
      eventsPerSec: Math.round(records.length / seconds),
      rows: counted.rows,
      duplicateRows: counted.rows - counted.distinct,
    };
  } finally {
    await Promise.all(apps.map((a) => a.stop()));
    await deleteTopics(kafka, [topic]);
  }
}

export async function runScaleOut(size: E2eSize, logDir: string): Promise<ScaleOutRow[]> {
  const rows: ScaleOutRow[] = [];
  for (const store of ['redis', 'inbox'] as const)
    for (const processes of [1, 2, 3]) {
      const row = await runOnce(store, processes, size, logDir);
      say(
        `scale-out ${store} x${processes}: ${row.eventsPerSec} events/s, ${row.rows} rows, ${row.duplicateRows} duplicate`,
      );
      rows.push(row);
    }
  return rows;
}
