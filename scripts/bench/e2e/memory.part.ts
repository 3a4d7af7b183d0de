/**
 * Part 5 of `npm run bench:e2e`: resident memory of the app holding N live ids in its memory
 * store vs the same app with an lru-cache as the dedup set, each in a process of its own
 * (memory.worker.ts); bytes per id = (RSS with the ids − RSS of the same process before they
 * were added, after a full GC each time) ÷ N — processes differ by tens of MB at start, more than 1 M
 * ids cost — and that extrapolated to the original design's 360 M ids. The memory store's table
 * (zeroed typed arrays, `KAFKA_DEDUP_MAX_ENTRIES=N`) is allocated at start but resident only once
 * written, so the delta counts it.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { E2eSize } from './e2e.size';
import { NOTE_IDS, type MemoryRow } from './e2e.results';
import { BROKER, RUN, createDatabase, round, say } from './e2e.support';

interface WorkerOut {
  config: string;
  ids: number;
  appRss: number;
  rss: number;
  appLive: number;
  live: number;
}

function runWorker(spec: object): Promise<WorkerOut> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', join(__dirname, 'memory.worker.ts'), JSON.stringify(spec)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
      },
    );
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20000)));
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('MEMORY_RESULT '));
      if (line) resolve(JSON.parse(line.slice('MEMORY_RESULT '.length)) as WorkerOut);
      else
        reject(
          new Error(
            `memory worker exited with ${code}: ${err.replace(/^\s+at .*\n/gm, '').slice(-3000)}`,
          ),
        );
    });
  });
}

export async function runMemory(
  size: E2eSize,
): Promise<{ rows: MemoryRow[]; extrapolated360M: Record<string, number> }> {
  const db = await createDatabase('memory');
  const env = (extra: Record<string, string>, n: number): Record<string, string> => ({
    DATABASE_URL: db.url,
    KAFKA_BROKERS: BROKER,
    CDC_TOPIC: `bench-e2e-${RUN}-memory-${n}`,
    KAFKA_GROUP_ID: `bench-e2e-${RUN}-memory-${n}`,
    HTTP_PORT: '0',
    GRPC_URL: '127.0.0.1:0',
    ...extra,
  });
  let n = 0;
  const baseline = await runWorker({
    config: 'baseline',
    ids: 0,
    env: env({ KAFKA_DEDUP_TTL_SECONDS: '0' }, n++),
  });
  say(`memory: the app without dedup ${(baseline.rss / 2 ** 20).toFixed(0)} MiB resident`);
  const rows: MemoryRow[] = [];
  for (const ids of size.memoryIds) {
    for (const config of ['memory store', 'lru-cache'] as const) {
      const extra: Record<string, string> =
        config === 'memory store'
          ? {
              KAFKA_DEDUP_STORE: 'memory',
              KAFKA_DEDUP_TTL_SECONDS: '900',
              KAFKA_DEDUP_MAX_ENTRIES: String(ids),
            }
          : { KAFKA_DEDUP_TTL_SECONDS: '0' };
      const out = await runWorker({ config, ids, env: env(extra, n++) });
      const row: MemoryRow = {
        config,
        ids,
        rssBytes: out.rss,
        baselineRssBytes: baseline.rss,
        beforeIdsRssBytes: out.appRss,
        bytesPerId: round((out.rss - out.appRss) / ids, 1),
        // against the app without dedup (the memory store's table is allocated at start)
        liveBytesPerId: round((out.live - baseline.live) / ids, 1),
      };
      rows.push(row);
      say(
        `memory: ${config}, ${ids.toLocaleString('en-US')} ids: ${(out.rss / 2 ** 20).toFixed(0)} MiB resident, ${row.bytesPerId} B/id`,
      );
    }
  }
  const largest = Math.max(...size.memoryIds);
  const extrapolated360M = Object.fromEntries(
    rows
      .filter((r) => r.ids === largest)
      .map((r) => [r.config, round((r.bytesPerId * NOTE_IDS) / 1e9, 1)]),
  );
  return { rows, extrapolated360M };
}
