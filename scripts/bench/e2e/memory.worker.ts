/**
 * One process of part 5 of `npm run bench:e2e`: the built user-service app (in this process, on
 * PostgreSQL, its Kafka consumer running), then `ids` live ids put in its dedup store — the app's
 * own memory store (`KAFKA_DEDUP_STORE=memory`, `KAFKA_DEDUP_MAX_ENTRIES=ids`), or, with dedup off,
 * an lru-cache@11 (`max: ids`, a TTL) holding the same keys — and the resident set size after a
 * full GC. `ids: 0`: the app alone (the baseline). Prints `MEMORY_RESULT {json}`.
 * Run with `node --expose-gc --import tsx`.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';

interface Spec {
  config: 'baseline' | 'memory store' | 'lru-cache';
  ids: number;
  env: Record<string, string>;
}

interface Store {
  markIfAbsent(key: { scope: string; id: string }, ttl: number): boolean;
}

const ROOT = join(__dirname, '..', '..', '..');
const load = createRequire(__filename);
const TTL_MS = 900_000;
const SCOPE = 'user-service/cdc.users';

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) collect();
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2]) as Spec;
  // the CDC topic is read from process.env when the controller class is defined
  Object.assign(process.env, spec.env);
  const { createUserServiceApp } = load(
    join(ROOT, 'dist/apps/user-service/apps/user-service/src/user-service.app.js'),
  ) as typeof import('../../../apps/user-service/src/user-service.app');
  const { DedupStore } = load(
    join(ROOT, 'dist/apps/user-service/libs/kafka-dedup/src/index.js'),
  ) as typeof import('../../../libs/kafka-dedup/src');
  const service = await createUserServiceApp({ logger: ['error'] });
  await service.start();
  await new Promise((r) => setTimeout(r, 1500));
  gc();
  const live = (): number => process.memoryUsage().heapUsed + process.memoryUsage().external;
  const appRss = process.memoryUsage().rss;
  const appLive = live();
  // ids as the CDC handler's keys are: the source position (lsn, txId) of each change
  const id = (i: number): string => `${1_000_000 + i * 8}:${5000 + Math.floor(i / 3)}`;
  let keep: unknown;
  if (spec.config === 'memory store') {
    const store = service.app.get(DedupStore) as unknown as Store;
    for (let i = 0; i < spec.ids; i++) store.markIfAbsent({ scope: SCOPE, id: id(i) }, TTL_MS);
  } else if (spec.config === 'lru-cache') {
    const cache = new LRUCache<string, true>({ max: spec.ids, ttl: TTL_MS, ttlAutopurge: false });
    for (let i = 0; i < spec.ids; i++) cache.set(`${SCOPE}\u0000${id(i)}`, true);
    keep = cache;
  }
  gc();
  const rss = process.memoryUsage().rss;
  const result = {
    ...spec,
    env: undefined,
    appRss,
    rss,
    appLive,
    live: live(),
    kept: keep ? 1 : 0,
  };
  process.stdout.write(`MEMORY_RESULT ${JSON.stringify(result)}\n`);
  await service.app.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
