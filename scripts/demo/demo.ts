/**
 * `npm run demo`: user-service with the things it talks to, under load and faults, then a report.
 * Started by scripts/demo.sh (which builds the apps and makes sure a broker answers).
 *
 *   auth.demo.test (dnsmasq) ─▶ 127.0.0.2…5: auth-service processes, one port
 *        ▲ the pool resolves the name, a connection per address
 *   user-service (gRPC pool) ◀── cdc.users (Debezium-shaped, ~20% copies)
 *   HTTP load: GET /users/:id (bearer token verified by auth) while auth-1 is SIGKILLed and
 *   restarted, auth-4 joins DNS (scale-up), auth-2 leaves it and then gets SIGTERM (removal)
 *
 * Prints a progress line every few seconds and a report; `--json` adds one JSON line. Exits 1 when
 * an invariant fails.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { signToken } from '../../apps/auth-service/src/auth-token';
import { DemoProcess } from './app-process';
import { AuthFleet } from './auth-fleet';
import { cdcEnvelope, cdcStream, type CdcRecord } from './cdc-events';
import { countDemoRows } from './demo-database';
import { printDemoReport, type DemoReport } from './demo-report';
import { metricSum } from './prometheus-text';
import { freePort } from '../support/free-port';

const ROOT = join(__dirname, '../..');
const JSON_OUT = process.argv.includes('--json');
const BROKER = process.env.KAFKA_BROKERS ?? `127.0.0.1:${process.env.KAFKA_PORT ?? '9092'}`;
const RUN = Date.now().toString(36);
const TOPIC = `cdc.users.demo-${RUN}`;
const SECRET = 'demo-token-secret-0123456789';
const CHANGES = Number(process.env.DEMO_CHANGES ?? 3000);
const LOAD_SECONDS = Number(process.env.DEMO_LOAD_SECONDS ?? 20);
const TTL_SECONDS = 10;
/** The pool re-resolves auth.demo.test this often; dnsmasq's TTL is 1 s. */
const DNS_REFRESH_MS = 1000;
/** user-service's default store: the inbox in its own database (ids are rows there). */
const INBOX = (process.env.KAFKA_DEDUP_STORE || 'postgres') === 'postgres';
const WORK_DIR = join(ROOT, '.cache', `demo-${RUN}`);
const started = Date.now();

const say = (line: string): void => {
  process.stderr.write(
    `[demo ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`,
  );
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<number> {
  mkdirSync(WORK_DIR, { recursive: true });
  const authMain = join(ROOT, 'dist/apps/auth-service/apps/auth-service/src/main.js');
  const userMain = join(ROOT, 'dist/apps/user-service/apps/user-service/src/main.js');
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const auth = new AuthFleet(authMain, SECRET, WORK_DIR, {
    grpc: await freePort(),
    metrics: await freePort(),
    dns: await freePort(),
  });
  const pgliteDir = join(WORK_DIR, 'pglite');
  const userService = new DemoProcess(
    'user-service',
    userMain,
    {
      KAFKA_BROKERS: BROKER,
      CDC_TOPIC: TOPIC,
      KAFKA_GROUP_ID: `user-service-demo-${RUN}`,
      HTTP_PORT: String(httpPort),
      GRPC_URL: `127.0.0.1:${grpcPort}`,
      AUTH_GRPC_URLS: auth.url,
      AUTH_DNS_SERVERS: auth.dns.server,
      AUTH_DNS_REFRESH_MS: String(DNS_REFRESH_MS),
      // short TTL and a sweep every 3 s, so the report shows ids expiring
      KAFKA_DEDUP_TTL_SECONDS: String(TTL_SECONDS),
      KAFKA_DEDUP_CLEANUP_CRON: '*/3 * * * * *',
      ...(process.env.DATABASE_URL ? {} : { PGLITE_DATA_DIR: pgliteDir }),
    },
    join(WORK_DIR, 'user-service.log'),
  );
  const stopAll = async (): Promise<void> => {
    await Promise.all([userService.stop('SIGTERM'), auth.stop()]);
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stopAll().then(() => process.exit(143)));
  const base = `http://127.0.0.1:${httpPort}`;
  const metrics = async (): Promise<string> => (await fetch(`${base}/metrics`)).text();

  try {
    say(`broker ${BROKER}, topic ${TOPIC}, logs in ${WORK_DIR}`);
    await auth.start(3);
    say(
      `DNS ${auth.dns.server}: ${auth.host} -> ${auth.inDns.map((n) => auth.describe(n)).join(', ')}`,
    );
    await userService.start(/\[user-service\] listening on/);
    say(
      `user-service on ${base} (gRPC ${grpcPort}, pid ${userService.pid}, embedded PGlite unless DATABASE_URL)`,
    );
    for (let i = 0; i < 100; i++) {
      const health = (await (await fetch(`${base}/health`)).json()) as { status: string };
      if (health.status === 'ok') break;
      await sleep(200);
    }

    // The stream: a few load-test users first, then the CDC stream with ~20% redelivered copies.
    const loadUsers = Array.from({ length: 20 }, (_, i) => `load-${i + 1}`);
    const loadRecords: CdcRecord[] = loadUsers.map((id, i) => ({
      key: id,
      value: cdcEnvelope(
        'c',
        { id, email: `${id}@example.com`, name: `Load ${id}` },
        100 + i * 8,
        1,
      ),
    }));
    const stream = cdcStream({
      changes: CHANGES,
      duplicateRatio: 0.2,
      lsnBase: 1_000_000,
      seed: 42,
    });
    const records = [...loadRecords, ...stream.records];
    const uniqueEvents = loadRecords.length + stream.unique;
    const kafka = new Kafka({
      clientId: 'demo-producer',
      brokers: [BROKER],
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    let produced = 0;
    const production = (async () => {
      // spread over ~60% of the load window, so the load and the fault overlap it
      const ticks = Math.max(1, Math.floor((LOAD_SECONDS * 0.6 * 1000) / 250));
      const chunk = Math.ceil(records.length / ticks);
      for (let i = 0; i < records.length; i += chunk) {
        const batch = records.slice(i, i + chunk);
        await producer.send({ topic: TOPIC, messages: batch });
        produced += batch.length;
        await sleep(250);
      }
    })();

    // HTTP load while auth churns: a crash (SIGKILL, restart), a scale-up, a graceful removal.
    const token = signToken('demo-caller', SECRET);
    const http = { requests: 0, ok: 0, notYet: 0, failed: 0 };
    const failures = new Map<string, number>();
    let authKills = 0;
    let removedLateCalls = -1;
    const churn = { scaleUps: 0, removals: 0 };
    const loadStart = Date.now();
    const loadEnds = loadStart + LOAD_SECONDS * 1000;
    const at = (share: number): Promise<void> =>
      sleep(Math.max(0, loadStart + share * LOAD_SECONDS * 1000 - Date.now()));
    await sleep(500); // the load users are the first records
    const worker = async (w: number): Promise<void> => {
      for (let i = w; Date.now() < loadEnds; i += 4) {
        const id = loadUsers[i % loadUsers.length];
        http.requests++;
        try {
          const res = await fetch(`${base}/users/${id}`, {
            headers: { authorization: `Bearer ${token}` },
          });
          const body = (await res.json()) as { id?: string; message?: string };
          if (res.status === 200 && body.id === id) http.ok++;
          else if (res.status === 404)
            http.ok++; // not consumed yet: a correct answer
          else {
            http.failed++;
            const key = `${res.status} ${body.message ?? ''}`.slice(0, 400);
            failures.set(key, (failures.get(key) ?? 0) + 1);
          }
        } catch (error) {
          http.failed++;
          failures.set(String(error), (failures.get(String(error)) ?? 0) + 1);
        }
      }
    };
    const chaos = (async () => {
      await at(0.1);
      say(`SIGKILL ${auth.describe('auth-1')} (its address stays in DNS)`);
      await auth.kill('auth-1');
      authKills++;
      await sleep(4000);
      await auth.restart('auth-1');
      say(`restarted ${auth.describe('auth-1')}`);
      // Early enough that the new replica has most of the load left: the pool's latency-aware
      // balancing gives a cold process few calls until its first answers' peak has decayed.
      await at(0.4);
      const added = await auth.add();
      churn.scaleUps++;
      say(`scale-up: ${auth.describe(added)} serves, joins ${auth.host} in DNS`);
      await at(0.65);
      // what Kubernetes does: the pod leaves the endpoints, preStop sleeps, then SIGTERM
      const graceMs = DNS_REFRESH_MS + 2000; // > refresh + 1 s TTL
      say(`removal: auth-2 leaves DNS; SIGTERM after ${graceMs} ms + a 1 s check`);
      removedLateCalls = await auth.remove('auth-2', graceMs, 1000);
      churn.removals++;
      say(`auth-2 exited (calls it got in the second before its SIGTERM: ${removedLateCalls})`);
    })();
    const progress = setInterval(() => {
      void metrics()
        .then((text) => {
          say(
            `produced ${produced}/${records.length} | processed ${metricSum(text, 'kafka_events_processed_total', { topic: TOPIC })}` +
              ` dup-skipped ${metricSum(text, 'kafka_event_deduplicated_total', { topic: TOPIC })}` +
              `${INBOX ? '' : ` live ids ${metricSum(text, 'kafka_dedup_live_entries')}`} sweeps ${metricSum(text, 'kafka_dedup_cleanup_duration_seconds_count')}` +
              ` | http ok ${http.ok} failed ${http.failed} | failovers ${metricSum(text, 'grpc_connection_switched_total', { pool: 'auth' })}`,
          );
        })
        .catch(() => undefined);
    }, 3000);
    await Promise.all([production, chaos, ...Array.from({ length: 4 }, (_, w) => worker(w))]);
    await producer.disconnect();

    // Drain, then let the TTL pass so a sweep expires every id.
    const drained = async (): Promise<boolean> => {
      const text = await metrics();
      return (
        metricSum(text, 'kafka_events_processed_total', { topic: TOPIC }) +
          metricSum(text, 'kafka_event_deduplicated_total', { topic: TOPIC }) >=
        records.length
      );
    };
    for (let i = 0; i < 150 && !(await drained()); i++) await sleep(200);
    say(
      `all ${records.length} records consumed; waiting ${TTL_SECONDS}s TTL + a sweep for the ids to expire`,
    );
    if (INBOX) {
      // The inbox's ids are rows (no live-entries gauge): wait out the TTL and two sweeps, then
      // count them in the database below.
      await sleep(TTL_SECONDS * 1000 + 6_000);
    } else {
      for (let i = 0; i < 100; i++) {
        if (metricSum(await metrics(), 'kafka_dedup_live_entries') === 0) break;
        await sleep(300);
      }
    }
    clearInterval(progress);
    const text = await metrics();
    const callsByAuthProcess = await auth.callsByReplica();
    const health = (await (await fetch(`${base}/health`)).json()) as {
      status: string;
      details: Record<
        string,
        { status: string; endpoints?: { address: string; state: string; connections: number }[] }
      >;
    };

    // The database: stop user-service gracefully (offsets committed, DB closed), then count.
    await userService.stop('SIGTERM');
    const { userEventRows, distinctRows, inboxRows } = await countDemoRows(
      TOPIC,
      INBOX,
      pgliteDir,
      process.env.DATABASE_URL,
    );

    const report: DemoReport = {
      eventsProduced: records.length,
      uniqueEvents,
      duplicatesProduced: stream.duplicates,
      duplicatesSkipped: metricSum(text, 'kafka_event_deduplicated_total', { topic: TOPIC }),
      userEventRows,
      distinctUserEventRows: distinctRows,
      httpRequests: http.requests,
      httpOk: http.ok,
      httpFailed: http.failed,
      http404BeforeConsumed: http.notYet,
      authKills,
      callsByAuthProcess,
      authScaleUps: churn.scaleUps,
      authRemovals: churn.removals,
      removedAuthCallsAfterGrace: removedLateCalls,
      authEndpointsAtEnd: (health.details['grpc-pool:auth']?.endpoints ?? []).map(
        (e) => `${e.address} ${e.state} ${e.connections}`,
      ),
      callsFailedOver: metricSum(text, 'grpc_connection_switched_total', { pool: 'auth' }),
      grpcRetries: metricSum(text, 'grpc_fallback_retry_total', { pool: 'auth' }),
      ttlSweeps: metricSum(text, 'kafka_dedup_cleanup_duration_seconds_count'),
      liveIdsAtEnd: INBOX ? inboxRows : metricSum(text, 'kafka_dedup_live_entries'),
      health: health.status,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
    return printDemoReport(report, health.details, failures, JSON_OUT) ? 0 : 1;
  } finally {
    await stopAll();
    if (!process.env.DEMO_KEEP_LOGS)
      rmSync(join(WORK_DIR, 'pglite'), { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
