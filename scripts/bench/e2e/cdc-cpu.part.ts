/**
 * Part 1 of `npm run bench:e2e`: the CPU cost of deduplication on the user-service's own CDC
 * handler writing to PostgreSQL. Each configuration: a fresh database and topic (3 partitions), the
 * app started and idle, then the whole stream (~1/6 of it redelivered copies) produced and
 * consumed; CPU of the app process, of PostgreSQL (every postgres process, exited backends
 * included) and of Redis (INFO cpu) over that window, and the rows written.
 */
import { cdcStream } from '../../demo/cdc-events';
import { createTopic, deleteTopics, kafkaClient, produceAll } from './cdc-producer';
import type { E2eSize } from './e2e.size';
import type { CdcCpuRow, CpuSeconds } from './e2e.results';
import {
  BROKER,
  REDIS_URL,
  RUN,
  countRows,
  createDatabase,
  median,
  postgresCpuSeconds,
  processCpuSeconds,
  quiesce,
  redisCpuSeconds,
  round,
  say,
  until,
  UserServiceProcess,
} from './e2e.support';

interface CdcConfig {
  config: string;
  description: string;
  env: Record<string, string>;
}

/** Dedup on: a window far longer than the run (Redis keys of the run expire after it). */
const TTL = { KAFKA_DEDUP_TTL_SECONDS: '900' };

export const CDC_CONFIGS: CdcConfig[] = [
  {
    config: 'none',
    description: 'no dedup (KAFKA_DEDUP_TTL_SECONDS=0)',
    env: { KAFKA_DEDUP_TTL_SECONDS: '0' },
  },
  { config: 'memory', description: 'memory store', env: { ...TTL, KAFKA_DEDUP_STORE: 'memory' } },
  {
    config: 'redis',
    description: 'Redis store',
    env: { ...TTL, KAFKA_DEDUP_STORE: 'redis', KAFKA_DEDUP_REDIS_URL: REDIS_URL },
  },
  {
    config: 'inbox',
    description: 'PostgreSQL inbox, per message',
    env: { ...TTL, KAFKA_DEDUP_STORE: 'postgres' },
  },
  {
    config: 'inbox-batch',
    description: 'PostgreSQL inbox, batch mode',
    env: { ...TTL, KAFKA_DEDUP_STORE: 'postgres', KAFKA_DEDUP_BATCH_TRANSACTIONS: 'true' },
  },
];

interface Round {
  produced: number;
  seconds: number;
  cpu: CpuSeconds;
  rows: number;
  duplicateRows: number;
}

async function runOnce(
  c: CdcConfig,
  size: E2eSize,
  round_: number,
  logDir: string,
): Promise<Round> {
  const kafka = kafkaClient([BROKER], `bench-e2e-${RUN}`);
  const topic = `bench-e2e-${RUN}-cdc-${c.config}-${round_}`;
  const db = await createDatabase(`cdc_${c.config}_${round_}`);
  const changes = Math.round(size.cdcEvents / 1.2);
  const stream = cdcStream({
    changes,
    duplicateRatio: 0.2,
    idPrefix: `r${round_}`,
    seed: 7 + round_,
  });
  await createTopic(kafka, topic);
  const app = new UserServiceProcess(
    `cdc-${c.config}-${round_}`,
    {
      ...c.env,
      DATABASE_URL: db.url,
      KAFKA_BROKERS: BROKER,
      CDC_TOPIC: topic,
      KAFKA_GROUP_ID: `bench-e2e-${RUN}-${c.config}-${round_}`,
    },
    logDir,
  );
  try {
    await app.start();
    await quiesce(db.name);
    await new Promise((r) => setTimeout(r, 1000)); // the consumer has joined and fetches
    const before = {
      app: processCpuSeconds(app.pid),
      pg: postgresCpuSeconds(),
      redis: redisCpuSeconds(),
    };
    const t0 = Date.now();
    const produced = await produceAll(kafka, topic, stream.records);
    const drained = await until(
      async () => (await app.handled(topic).catch(() => 0)) >= produced,
      Math.max(120_000, produced * 5),
      500,
    );
    const seconds = (Date.now() - t0) / 1000;
    const cpu = {
      app: processCpuSeconds(app.pid) - before.app,
      postgres: postgresCpuSeconds() - before.pg,
      redis: c.env.KAFKA_DEDUP_STORE === 'redis' ? redisCpuSeconds() - before.redis : 0,
      total: 0,
    };
    cpu.total = cpu.app + cpu.postgres + cpu.redis;
    if (!drained)
      say(`cdc ${c.config}: not drained in time (${await app.handled(topic)}/${produced})`);
    await app.stop();
    const counted = await countRows(db.name, topic);
    return {
      produced,
      seconds,
      cpu,
      rows: counted.rows,
      duplicateRows: counted.rows - counted.distinct,
    };
  } finally {
    await app.stop();
    await deleteTopics(kafka, [topic]);
  }
}

/** Runs every configuration `size.cdcRounds` times, interleaved (even rounds in reverse order). */
export async function runCdcCpu(size: E2eSize, logDir: string): Promise<CdcCpuRow[]> {
  const rounds = new Map<string, Round[]>();
  for (let r = 1; r <= size.cdcRounds; r++) {
    const order = r % 2 === 1 ? CDC_CONFIGS : [...CDC_CONFIGS].reverse();
    for (const c of order) {
      const result = await runOnce(c, size, r, logDir);
      rounds.set(c.config, [...(rounds.get(c.config) ?? []), result]);
      say(
        `cdc [${r}/${size.cdcRounds}] ${c.config}: ${Math.round(result.produced / result.seconds)} events/s, ` +
          `CPU ${result.cpu.total.toFixed(1)} s (app ${result.cpu.app.toFixed(1)}, pg ${result.cpu.postgres.toFixed(1)}, redis ${result.cpu.redis.toFixed(1)}), ` +
          `${result.rows} rows, ${result.duplicateRows} duplicate`,
      );
    }
  }
  const per100k = (x: Round): number => (x.cpu.total / x.produced) * 100_000;
  const none = rounds.get('none') ?? [];
  return CDC_CONFIGS.map((c) => {
    const list = rounds.get(c.config)!;
    const mid = [...list].sort((a, b) => per100k(a) - per100k(b))[
      Math.floor((list.length - 1) / 2)
    ];
    const ratios = list
      .map((x, i) => (none[i] ? per100k(x) / per100k(none[i]) : NaN))
      .filter(Number.isFinite);
    const values = list.map(per100k);
    return {
      config: c.config,
      description: c.description,
      exists: true,
      produced: mid.produced,
      unique: Math.round(size.cdcEvents / 1.2),
      copies: mid.produced - Math.round(size.cdcEvents / 1.2),
      eventsPerSec: Math.round(median(list.map((x) => x.produced / x.seconds))),
      cpu: {
        app: round(mid.cpu.app),
        postgres: round(mid.cpu.postgres),
        redis: round(mid.cpu.redis),
        total: round(mid.cpu.total),
      },
      cpuPer100k: round(median(values)),
      cpuPer100kRange: [round(Math.min(...values)), round(Math.max(...values))],
      cpuRatio: ratios.length ? round(median(ratios), 3) : null,
      cpuRatios: ratios.map((x) => round(x, 3)),
      rows: mid.rows,
      duplicateRows: Math.max(...list.map((x) => x.duplicateRows)),
      rounds: list.length,
    };
  });
}
