import { signToken } from '../apps/auth-service/src/auth-token';
import { cdcStream } from '../scripts/demo/cdc-events';
import { createTopic, kcatProduce, KAFKA_BROKER, uniqueTopic } from './support/kcat';
import { PrivatePostgres } from './support/postgres-server';
import {
  AUTH_READY,
  authProcess,
  AppProcess,
  E2E_TOKEN_SECRET,
  portBlock,
  USER_SERVICE_READY,
} from './support/user-service-processes';
import {
  eventsWritten,
  probe,
  quantile,
  query,
  usersGrpcClient,
} from './support/user-service-probes';
import { waitFor } from './support/wait';

const STALL_MS = 3_000;
/** Probe p99 under load that fails the suite (the target, 50 ms, is reported, not asserted). */
const PROBE_P99_BOUND_MS = 500;
/** The client timeout of the liveness probe (a kubelet's `timeoutSeconds`). */
const LIVE_TIMEOUT_MS = 1_000;

/**
 * What the Kubernetes probes see (docker/k8s): a user-service process on a PostgreSQL server of
 * its own (stopped mid-test), two auth-service processes (SIGKILLed), a stuck event loop.
 */
describe('user-service probes: /health/live, /health/ready under faults (real processes)', () => {
  const topic = uniqueTopic('cdc.users.probes');
  const [httpPort, grpcPort, pgPort, ...authPorts] = portBlock(5);
  const auth = authPorts.map((port) => authProcess(port));
  const base = `http://127.0.0.1:${httpPort}`;
  let postgres: PrivatePostgres;
  let app: AppProcess;
  let databaseUrl: string;
  let stoppedByTest = false;
  const token = signToken('caller', E2E_TOKEN_SECRET);
  const getUser = (id: string): Promise<Response> =>
    fetch(`${base}/users/${id}`, { headers: { authorization: `Bearer ${token}` } });

  /** Produces a stream; resolves with the seconds until every change of it is written. */
  async function consume(
    idPrefix: string,
    lsnBase: number,
    changes = 600,
  ): Promise<{ seconds: number; live: string }> {
    const stream = cdcStream({ changes, idPrefix, lsnBase, seed: 3 });
    const started = Date.now();
    kcatProduce(topic, stream.records);
    const done = await waitFor(
      async () => (await eventsWritten(databaseUrl, idPrefix)) >= stream.unique,
      45_000,
      100,
    );
    expect({ idPrefix, done }).toEqual({ idPrefix, done: true });
    return { seconds: (Date.now() - started) / 1000, live: [...stream.liveUsers.keys()][0] };
  }

  beforeAll(async () => {
    postgres = new PrivatePostgres(pgPort);
    databaseUrl = postgres.url();
    await Promise.all([
      postgres.start(),
      createTopic(topic, 3),
      ...auth.map((a) => a.start(AUTH_READY)),
    ]);
    app = new AppProcess('user-service', {
      KAFKA_BROKERS: KAFKA_BROKER,
      KAFKA_GROUP_ID: `${topic}-g`,
      CDC_TOPIC: topic,
      DATABASE_URL: databaseUrl, // the inbox dedup store lives there too
      HTTP_PORT: String(httpPort),
      GRPC_URL: `127.0.0.1:${grpcPort}`,
      AUTH_GRPC_URLS: authPorts.map((p) => `127.0.0.1:${p}`).join(','),
      DEBUG_EVENT_LOOP_STALL_MS: String(STALL_MS),
    });
    await app.start(USER_SERVICE_READY);
    expect(
      await waitFor(async () => (await probe(`${base}/health/ready`)).body.status === 'ok', 30_000),
    ).toBe(true);
  }, 180_000);

  afterAll(async () => {
    if (app && !app.running && !stoppedByTest) console.log(`user-service exited:\n${app.tail(40)}`);
    await app?.stop('SIGKILL');
    await Promise.all(auth.map((a) => a.stop('SIGKILL')));
    await postgres?.destroy();
  }, 60_000);

  it('stays ready with every auth process SIGKILLed: auth reported, /users 503 naming the pool, GetUser and CDC keep working, and calls succeed again once auth returns', async () => {
    const { seconds: upSeconds, live: upUser } = await consume('up', 1_000_000);
    const pid = app.pid;
    await Promise.all(auth.map((a) => a.stop('SIGKILL')));
    expect(
      await waitFor(
        async () =>
          (await probe(`${base}/health/ready`)).body.details['grpc-pool:auth']?.status ===
          'degraded',
        10_000,
        100,
      ),
    ).toBe(true);
    const ready = await probe(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('degraded');
    expect(ready.body.details['grpc-pool:auth']).toMatchObject({ healthy: 0, size: 6 });
    expect(ready.body.details['grpc-pool:auth'].message).toMatch(/grpc pool "auth" fail fast/);
    const full = await probe(`${base}/health`);
    expect([full.status, full.body.error?.['grpc-pool:auth']?.status]).toEqual([503, 'down']);

    const res = await getUser(upUser);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { message: string }).message).toMatch(/grpc pool "auth"/);

    // the CDC path and gRPC GetUser do not need auth; readiness stays 200 all along
    const readiness: number[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        readiness.push((await probe(`${base}/health/ready`)).status);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const { seconds: downSeconds, live: downUser } = await consume('down', 2_000_000);
    polling = false;
    await poller;
    expect(new Set(readiness)).toEqual(new Set([200]));
    const grpcClient = usersGrpcClient(grpcPort);
    try {
      const found = await grpcClient.getUser(downUser);
      expect(found.error).toBeNull();
      expect(found.user).toMatchObject({ id: downUser });
    } finally {
      grpcClient.close();
    }
    console.log(
      `CDC 600 changes: ${upSeconds.toFixed(2)} s with auth up, ${downSeconds.toFixed(2)} s with every auth process down (${readiness.length} readiness probes, all 200)`,
    );
    // same order of magnitude (a shared CI machine is noisy): auth is not on the CDC path
    expect(downSeconds).toBeLessThan(upSeconds * 3 + 5);

    await Promise.all(auth.map((a) => a.start(AUTH_READY)));
    expect(await waitFor(async () => (await getUser(upUser)).status === 200, 15_000, 200)).toBe(
      true,
    );
    expect((await getUser('nobody-here')).status).toBe(404);
    expect(app.pid).toBe(pid); // no restart
    expect(await waitFor(async () => (await probe(`${base}/health`)).status === 200, 15_000)).toBe(
      true,
    );
  }, 120_000);

  it(`fails /health/live within its ${LIVE_TIMEOUT_MS} ms timeout while the event loop is stuck, and reports the stall once released`, async () => {
    expect((await probe(`${base}/health/live`, LIVE_TIMEOUT_MS)).status).toBe(200);
    process.kill(app.pid!, 'SIGUSR2'); // DEBUG_EVENT_LOOP_STALL_MS: busy-loops for STALL_MS
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    const stuck = await probe(`${base}/health/live`, LIVE_TIMEOUT_MS).catch((e: Error) => e);
    const waited = Date.now() - started;
    expect((stuck as Error).name).toBe('TimeoutError'); // no answer at all, as the kubelet sees it
    expect(waited).toBeLessThan(LIVE_TIMEOUT_MS + 500);
    expect(
      await waitFor(
        async () =>
          (await probe(`${base}/health/live`, LIVE_TIMEOUT_MS).catch(() => null))?.status === 200,
        STALL_MS + 5_000,
        100,
      ),
    ).toBe(true);
    const live = await probe(`${base}/health/live`);
    expect(live.body.details['event-loop'].maxMs).toBeGreaterThan(STALL_MS - 500);
    expect(app.output).toMatch(/SIGUSR2: blocking the event loop for 3000 ms/);
  });

  it('answers /health/live and /health/ready quickly under demo-like load (CDC stream + 4 HTTP callers), and reports p50/p99', async () => {
    const stream = cdcStream({ changes: 2_000, idPrefix: 'load', lsnBase: 3_000_000, seed: 5 });
    kcatProduce(topic, stream.records);
    const ends = Date.now() + 8_000;
    let requests = 0;
    const caller = async (): Promise<void> => {
      while (Date.now() < ends) {
        await (await getUser(`up-${1 + (requests++ % 50)}`)).arrayBuffer();
      }
    };
    const timings: Record<'live' | 'ready', number[]> = { live: [], ready: [] };
    const prober = async (kind: 'live' | 'ready'): Promise<void> => {
      while (Date.now() < ends) {
        const answer = await probe(`${base}/health/${kind}`);
        expect(answer.status).toBe(200);
        timings[kind].push(answer.ms);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await Promise.all([prober('live'), prober('ready'), ...Array.from({ length: 4 }, caller)]);
    const figures = {
      live: {
        n: timings.live.length,
        p50: quantile(timings.live, 0.5),
        p99: quantile(timings.live, 0.99),
      },
      ready: {
        n: timings.ready.length,
        p50: quantile(timings.ready, 0.5),
        p99: quantile(timings.ready, 0.99),
      },
      httpRequests: requests,
      cdcWritten: await eventsWritten(databaseUrl, 'load'),
      // the server's side of it: the event loop's delay over the same seconds
      eventLoop: (await probe(`${base}/health/live`)).body.details['event-loop'],
    };
    console.log(`probe latency under load (ms): ${JSON.stringify(figures)}`);
    expect(figures.cdcWritten).toBeGreaterThan(0);
    // The target is 50 ms p99 (README: figures measured on a quiet machine); this bound only
    // catches a probe that blocks (a lock, a slow dependency without a timeout) on a busy CI host.
    expect(figures.live.p99).toBeLessThanOrEqual(PROBE_P99_BOUND_MS);
    expect(figures.ready.p99).toBeLessThanOrEqual(PROBE_P99_BOUND_MS);
  }, 60_000);

  it('answers /health/ready 503 naming the database while PostgreSQL is stopped mid-stream (liveness stays 200), then recovers and writes every change once', async () => {
    const stream = cdcStream({ changes: 1_500, idPrefix: 'pgdown', lsnBase: 5_000_000, seed: 8 });
    kcatProduce(topic, stream.records);
    expect(
      await waitFor(async () => (await eventsWritten(databaseUrl, 'pgdown')) > 50, 30_000, 50),
    ).toBe(true);
    await postgres.stop(); // immediate shutdown: transactions in flight are lost
    expect(
      await waitFor(async () => (await probe(`${base}/health/ready`)).status === 503, 10_000, 100),
    ).toBe(true);
    const ready = await probe(`${base}/health/ready`);
    expect(ready.body.error?.database).toMatchObject({ status: 'down', driver: 'postgres' });
    expect(ready.body.details.kafka.status).toBe('up');
    expect((await probe(`${base}/health/live`)).status).toBe(200);
    await postgres.start();
    expect(
      await waitFor(async () => (await probe(`${base}/health/ready`)).status === 200, 20_000, 200),
    ).toBe(true);
    // Kafka redelivers what failed while the database was away; the inbox skips what committed
    expect(
      await waitFor(
        async () => (await eventsWritten(databaseUrl, 'pgdown')) >= stream.unique,
        45_000,
        200,
      ),
    ).toBe(true);
    const [{ rows, distinct }] = await query<{ rows: string; distinct: string }>(
      databaseUrl,
      "SELECT count(*) AS rows, count(DISTINCT (source_lsn, tx_id)) AS distinct FROM user_events WHERE user_id LIKE 'pgdown-%'",
    );
    expect([Number(rows), Number(distinct)]).toEqual([stream.unique, stream.unique]);
    expect(app.running).toBe(true);
  }, 120_000);

  it('stops within the grace period on SIGTERM mid-stream: in-flight messages finished and committed', async () => {
    const stream = cdcStream({ changes: 3_000, idPrefix: 'term', lsnBase: 4_000_000, seed: 6 });
    kcatProduce(topic, stream.records);
    expect(
      await waitFor(async () => (await eventsWritten(databaseUrl, 'term')) > 100, 30_000, 50),
    ).toBe(true);
    const started = Date.now();
    stoppedByTest = true;
    const exit = await app.stop('SIGTERM');
    const seconds = (Date.now() - started) / 1000;
    console.log(`SIGTERM → exit mid-stream: ${seconds.toFixed(2)} s`);
    expect({ exit, log: exit === 'SIGTERM' ? '' : app.tail(8) }).toEqual({
      exit: 'SIGTERM',
      log: '',
    });
    expect(app.output).toMatch(/\[Consumer\] Stopped[\s\S]*postgres closed \(SIGTERM\)/);
    // docker/k8s/user-service.deployment.yaml: terminationGracePeriodSeconds covers this
    expect(seconds).toBeLessThan(10);
  }, 60_000);
});
