/**
 * Part 4 of `npm run bench:e2e`: user-service (PostgreSQL inbox store) consuming from a 3-broker
 * KRaft cluster (replication factor 3, min ISR 2) while the bench produces at a steady pace
 * (`acks: -1`); mid-stream the leader of partition 0 is SIGKILLed (and restarted), then the active
 * controller. Counted: records acknowledged to the producer, rows written, acknowledged records
 * without a row (lost, with their ids), duplicate rows, and the longest stall of the consumer.
 */
import { spawnSync } from 'node:child_process';
import { Partitioners } from 'kafkajs';
import { cdcStream } from '../../demo/cdc-events';
import { createTopic, deleteTopics, kafkaClient, partitionLeaders } from './cdc-producer';
import type { E2eSize } from './e2e.size';
import type { FailoverResult } from './e2e.results';
import {
  RUN,
  countRows,
  createDatabase,
  say,
  sleep,
  until,
  UserServiceProcess,
  withPg,
  round,
} from './e2e.support';
import {
  activeController,
  CLUSTER_BROKERS,
  ensureCluster,
  killNode,
  startNode,
  stopCluster,
} from './kafka-cluster';

type Progress = { second: number; rows: number; acknowledged: number }[];

/**
 * Periods without progress while acknowledged records waited: from the last sample that moved to
 * the next one that did (or to the last sample, if the run ended stalled).
 */
export function stallPeriods(progress: Progress): { start: number; end: number }[] {
  const periods: { start: number; end: number }[] = [];
  let since = progress[0]?.second ?? 0;
  let lastRows = progress[0]?.rows ?? 0;
  for (const p of progress.slice(1)) {
    if (p.rows >= p.acknowledged)
      since = p.second; // nothing waiting: idle, not stalled
    else if (p.rows !== lastRows) {
      periods.push({ start: since, end: p.second });
      since = p.second;
    }
    lastRows = p.rows;
  }
  const last = progress.at(-1);
  if (last && last.rows < last.acknowledged && last.second > since)
    periods.push({ start: since, end: last.second });
  return periods;
}

/** The longest stall (seconds) of those overlapping [from, to), each counted whole. */
export function longestStall(progress: Progress, from = -Infinity, to = Infinity): number {
  const lengths = stallPeriods(progress)
    .filter((p) => p.end > from && p.start < to)
    .map((p) => p.end - p.start);
  return round(Math.max(0, ...lengths), 2);
}

export async function runBrokerFailover(size: E2eSize, logDir: string): Promise<FailoverResult> {
  let started = false;
  try {
    started = ensureCluster();
  } catch (error) {
    return notRun(`the 3-broker cluster did not start: ${String(error).slice(0, 300)}`);
  }
  const kafka = kafkaClient(CLUSTER_BROKERS, `bench-e2e-${RUN}-failover`);
  const topic = `bench-e2e-${RUN}-failover`;
  const db = await createDatabase('failover');
  const records = cdcStream({
    changes: size.failoverEvents,
    duplicateRatio: 0,
    idPrefix: 'f',
    seed: 5,
  }).records;
  const lsnOf = (value: string): string =>
    String((JSON.parse(value) as { source: { lsn: number } }).source.lsn);
  const app = new UserServiceProcess(
    'failover',
    {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: CLUSTER_BROKERS.join(','),
      CDC_TOPIC: topic,
      KAFKA_GROUP_ID: `bench-e2e-${RUN}-failover`,
      KAFKA_DEDUP_STORE: 'postgres',
      KAFKA_DEDUP_TTL_SECONDS: '900',
    },
    logDir,
  );
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const acked: string[] = [];
  let sendErrors = 0;
  const progress: FailoverResult['progress'] = [];
  const faults: FailoverResult['faults'] = [];
  try {
    await createTopic(kafka, topic, { replicationFactor: 3, minIsr: 2 });
    await app.start();
    await producer.connect();
    await sleep(2000);
    const t0 = Date.now();
    const elapsed = (): number => (Date.now() - t0) / 1000;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const rows = await app.handled(topic).catch(() => progress.at(-1)?.rows ?? 0);
        progress.push({ second: round(elapsed(), 2), rows, acknowledged: acked.length });
        await sleep(250);
      }
    })();
    const chaos = (async () => {
      const S = size.failoverSeconds * 1000;
      await sleep(0.25 * S);
      const leader = (await partitionLeaders(kafka, topic)).get(0)!;
      say(`failover: SIGKILL node ${leader} (leader of partition 0)`);
      killNode(leader);
      faults.push({
        what: 'partition leader SIGKILLed',
        node: leader,
        atSecond: round(elapsed(), 1),
        stallSeconds: 0,
      });
      await sleep(0.15 * S);
      say(`failover: node ${leader} started again`);
      startNode(leader);
      await sleep(0.25 * S);
      const controller = activeController() ?? leader;
      say(`failover: SIGKILL node ${controller} (active controller)`);
      killNode(controller);
      faults.push({
        what: 'active controller SIGKILLed',
        node: controller,
        atSecond: round(elapsed(), 1),
        stallSeconds: 0,
      });
      await sleep(0.15 * S);
      say(`failover: node ${controller} started again`);
      startNode(controller);
    })();
    // steady production: a batch every 100 ms, each awaited (a send stuck in a failover delays the next)
    const batch = Math.max(1, Math.ceil(records.length / (size.failoverSeconds * 10)));
    for (let i = 0; i < records.length; i += batch) {
      const slice = records.slice(i, i + batch);
      try {
        await producer.send({ topic, acks: -1, messages: slice });
        for (const r of slice) acked.push(lsnOf(r.value));
      } catch (error) {
        sendErrors++;
        say(
          `failover: send failed (${slice.length} records not acknowledged): ${(error as Error).message}`,
        );
      }
      await sleep(
        Math.max(0, t0 + ((i + batch) / records.length) * size.failoverSeconds * 1000 - Date.now()),
      );
    }
    await chaos;
    // drained: a row for every acknowledged record (bounded: a lost one is reported, not awaited)
    await until(
      async () => (await countRows(db.name, topic)).distinct >= acked.length,
      60_000,
      1000,
    );
    await sleep(2000);
    sampling = false;
    await sampler;
    await app.stop();
    const counted = await countRows(db.name, topic);
    const lostIds = await withPg(db.name, async (c) =>
      (
        await c.query<{ lsn: string }>(
          'SELECT lsn::text AS lsn FROM (SELECT unnest($1::bigint[]) AS lsn EXCEPT SELECT source_lsn FROM user_events WHERE topic = $2) AS missing ORDER BY 1',
          [acked, topic],
        )
      ).rows.map((r) => r.lsn),
    );
    // Where a lost record is: still in the topic (consumed past without a row) or not there at all
    // (acknowledged to the producer, then gone from the log).
    const inTopic = lsnsInTopic(topic);
    const lostInTopic = lostIds.filter((lsn) => inTopic.has(lsn)).length;
    faults.forEach((f, i) => {
      f.stallSeconds = longestStall(progress, f.atSecond, faults[i + 1]?.atSecond ?? Infinity);
    });
    return {
      ran: true,
      produced: records.length,
      acknowledged: acked.length,
      sendErrors,
      rows: counted.rows,
      distinctRows: counted.distinct,
      lost: lostIds.length,
      lostIds: lostIds
        .slice(0, 50)
        .map(
          (lsn) =>
            `source.lsn=${lsn}${inTopic.has(lsn) ? ' (in the topic)' : ' (not in the topic)'}`,
        ),
      lostInTopic,
      recordsInTopic: inTopic.size,
      duplicates: counted.rows - counted.distinct,
      stallSeconds: longestStall(progress),
      faults,
      progress: progress.filter((_, i) => i % 2 === 0),
    };
  } finally {
    await producer.disconnect().catch(() => undefined);
    await app.stop();
    for (const node of [1, 2, 3]) {
      try {
        startNode(node); // a node left down by a failed run comes back before the topic is dropped
      } catch {
        // already running
      }
    }
    await deleteTopics(kafka, [topic]);
    if (started) stopCluster();
  }
}

/** The source positions of every record in `topic` now (kcat reads it to the end, bounded). */
function lsnsInTopic(topic: string): Set<string> {
  const out = spawnSync(
    'kcat',
    [
      '-b',
      CLUSTER_BROKERS.join(','),
      '-t',
      topic,
      '-C',
      '-o',
      'beginning',
      '-e',
      '-q',
      '-f',
      '%s\\n',
    ],
    { encoding: 'utf8', timeout: 60_000, maxBuffer: 512 * 2 ** 20 },
  );
  return new Set([...(out.stdout ?? '').matchAll(/"lsn":(\d+)/g)].map((m) => m[1]));
}

/** The result of a failover part that did not run, saying why. */
export function notRun(note: string): FailoverResult {
  return {
    ran: false,
    note,
    produced: 0,
    acknowledged: 0,
    sendErrors: 0,
    rows: 0,
    distinctRows: 0,
    lost: 0,
    lostIds: [],
    lostInTopic: 0,
    recordsInTopic: 0,
    duplicates: 0,
    stallSeconds: 0,
    faults: [],
    progress: [],
  };
}
