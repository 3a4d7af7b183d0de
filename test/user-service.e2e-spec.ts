import { CDC_TOPIC as topic } from './support/user-service-env'; // first: sets CDC_TOPIC
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { register } from 'prom-client';
import {
  createUserServiceApp,
  type UserServiceApp,
} from '../apps/user-service/src/user-service.app';
import { signToken } from '../apps/auth-service/src/auth-token';
import { cdcEnvelope, cdcStream } from '../scripts/demo/cdc-events';
import { createTopic, kcatProduce, KAFKA_BROKER } from './support/kcat';
import { families, promtoolCheck } from './support/promtool';
import { PrivateDatabase } from './support/user-service-postgres';
import {
  AUTH_READY,
  authProcess,
  E2E_TOKEN_SECRET,
  portBlock,
  type AppProcess,
} from './support/user-service-processes';
import { metricSum, waitForCaughtUp } from './support/user-service-kafka';
import { waitFor } from './support/wait';

const GROUP = `${topic}-g`;

interface HealthReport {
  status: string;
  info?: Record<string, { status: string }>;
  details: Record<string, { status: string }>;
}

describe('user-service (HTTP + Kafka CDC consumer + gRPC; real broker, PostgreSQL, auth-service processes)', () => {
  const database = new PrivateDatabase();
  const [httpPort, grpcPort, ...authPorts] = portBlock(5);
  const auth: AppProcess[] = authPorts.map((port) => authProcess(port));
  let service: UserServiceApp;
  let baseUrl: string;
  let unique = 0; // distinct changes produced so far (every test adds to it)

  beforeAll(async () => {
    register.clear();
    await Promise.all([
      database.create(),
      createTopic(topic, 3),
      ...auth.map((a) => a.start(AUTH_READY)),
    ]);
    service = await createUserServiceApp({
      logger: ['error'],
      env: {
        KAFKA_BROKERS: KAFKA_BROKER,
        KAFKA_GROUP_ID: GROUP,
        DATABASE_URL: database.url,
        HTTP_PORT: String(httpPort),
        GRPC_URL: `127.0.0.1:${grpcPort}`,
        AUTH_GRPC_URLS: authPorts.map((p) => `127.0.0.1:${p}`).join(','),
        CDC_MAX_EVENT_BYTES: '65536',
      },
    });
    await service.start();
    baseUrl = `http://127.0.0.1:${httpPort}`;
    await waitFor(async () => (await health()).details.kafka?.status === 'up', 30_000);
    expect((await health()).details.kafka).toMatchObject({ status: 'up' });
  }, 120_000);

  afterAll(async () => {
    await service?.app.close();
    await Promise.all(auth.map((a) => a.stop('SIGKILL')));
    await database.drop();
  }, 60_000);

  const metrics = async (): Promise<string> => (await fetch(`${baseUrl}/metrics`)).text();
  const health = async (): Promise<HealthReport> =>
    (await (await fetch(`${baseUrl}/health`)).json()) as HealthReport;
  const getUser = (id: string, token = signToken('caller', E2E_TOKEN_SECRET)): Promise<Response> =>
    fetch(`${baseUrl}/users/${id}`, { headers: { authorization: `Bearer ${token}` } });

  async function settle(expectedUnique: number): Promise<{ rows: number; distinct: number }> {
    await waitFor(
      async () => (await database.eventCounts()).distinct >= expectedUnique,
      45_000,
      200,
    );
    expect(await waitForCaughtUp(`${GROUP}-server`, topic)).toBe(true);
    return database.eventCounts();
  }

  it('writes each change once: redelivered copies are skipped, user_events rows == unique changes', async () => {
    const before = await metrics();
    const stream = cdcStream({ changes: 400, idPrefix: 'dup', lsnBase: 1_000_000, seed: 7 });
    kcatProduce(topic, stream.records);
    unique += stream.unique;
    const counts = await settle(unique);
    expect(counts).toEqual({ rows: unique, distinct: unique });
    const after = await metrics();
    const skipped = (text: string): number =>
      metricSum(text, 'kafka_event_deduplicated_total', { topic });
    expect(skipped(after) - skipped(before)).toBe(stream.duplicates);
    // The read model holds exactly the users alive at the end of the stream.
    const [{ n }] = await database.query<{ n: string }>(
      "SELECT count(*) AS n FROM users WHERE id LIKE 'dup-%'",
    );
    expect(Number(n)).toBe(stream.liveUsers.size);
    const [id, name] = [...stream.liveUsers][0];
    const res = await getUser(id);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id, name, email: `${id}@example.com` });
  });

  it('serves users.v1.UserService/GetUser from the read model (NOT_FOUND for an unknown id)', async () => {
    const definition = protoLoader.loadSync(join(__dirname, '../apps/proto/users.proto'), {
      keepCase: true,
    });
    const pkg = grpc.loadPackageDefinition(definition) as unknown as {
      users: { v1: { UserService: grpc.ServiceClientConstructor } };
    };
    const client = new pkg.users.v1.UserService(
      `127.0.0.1:${grpcPort}`,
      grpc.credentials.createInsecure(),
    );
    const call = (
      id: string,
    ): Promise<{ error: grpc.ServiceError | null; user?: Record<string, string> }> =>
      new Promise((resolve) =>
        client.getUser({ id }, (error: grpc.ServiceError | null, user?: Record<string, string>) =>
          resolve({ error, user }),
        ),
      );
    const [rows] = await database.query<{ id: string; name: string }>(
      "SELECT id, name FROM users WHERE id LIKE 'dup-%' ORDER BY id LIMIT 1",
    );
    const found = await call(rows.id);
    expect(found.error).toBeNull();
    expect(found.user).toMatchObject({ id: rows.id, name: rows.name });
    expect((await call('nobody')).error?.code).toBe(grpc.status.NOT_FOUND);
    client.close();
  });

  it('processes a change whose write failed once when Kafka redelivers it: still one row per change', async () => {
    const failingLsn = 2_000_000 + 8 * 5;
    await database.query(`
      CREATE SEQUENCE e2e_fail_once;
      CREATE FUNCTION e2e_fail_once() RETURNS trigger AS $$
      BEGIN
        IF NEW.source_lsn = ${failingLsn} AND nextval('e2e_fail_once') = 1 THEN
          RAISE EXCEPTION 'injected failure for lsn %', NEW.source_lsn;
        END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql;
      CREATE TRIGGER e2e_fail_once BEFORE INSERT ON user_events
        FOR EACH ROW EXECUTE FUNCTION e2e_fail_once();`);
    try {
      const stream = cdcStream({ changes: 60, idPrefix: 'fail', lsnBase: 2_000_000, seed: 3 });
      kcatProduce(topic, stream.records);
      unique += stream.unique;
      expect(await settle(unique)).toEqual({ rows: unique, distinct: unique });
      const [{ fired }] = await database.query<{ fired: string }>(
        'SELECT last_value AS fired FROM e2e_fail_once',
      );
      expect(Number(fired)).toBeGreaterThanOrEqual(2); // failed once, then succeeded on redelivery
      const [{ n }] = await database.query<{ n: string }>(
        `SELECT count(*) AS n FROM user_events WHERE source_lsn = ${failingLsn}`,
      );
      expect(Number(n)).toBe(1);
    } finally {
      await database.query(
        'DROP TRIGGER e2e_fail_once ON user_events; DROP FUNCTION e2e_fail_once(); DROP SEQUENCE e2e_fail_once',
      );
    }
  });

  it('counts and skips malformed events (not JSON, no source, tombstone, huge) and keeps consuming', async () => {
    const before = await metrics();
    const valid = (i: number): string =>
      cdcEnvelope(
        'c',
        { id: `mal-${i}`, email: `mal-${i}@example.com`, name: `M ${i}` },
        3_000_000 + i,
        9000 + i,
      );
    kcatProduce(topic, [
      { key: 'mal-1', value: valid(1) },
      { key: 'mal-x', value: 'this is not json {' },
      { key: 'mal-x', value: JSON.stringify({ before: null, after: { id: 'mal-x' }, op: 'c' }) },
      { key: 'mal-x', value: 'x'.repeat(100) + JSON.stringify({ pad: 'y'.repeat(100_000) }) },
      {
        key: 'mal-x',
        value: JSON.stringify({
          pad: 'y'.repeat(100_000),
          source: { lsn: 3_100_000, txId: 1 },
          op: 'c',
          after: { id: 'mal-huge' },
        }),
      },
      {
        key: 'mal-x',
        value: JSON.stringify({
          before: null,
          after: { id: 'mal-x' },
          source: { lsn: 3_100_001 },
          op: 'z',
        }),
      },
      { key: 'mal-2', value: valid(2) },
    ]);
    // a tombstone: a record whose value is null (kcat -Z turns an empty value into null)
    const { execFileSync } = await import('node:child_process');
    execFileSync('kcat', ['-b', KAFKA_BROKER, '-P', '-t', topic, '-Z', '-K', '\t'], {
      input: 'mal-1\t\n',
    });
    kcatProduce(topic, [{ key: 'mal-3', value: valid(3) }]);
    unique += 3;
    expect(await settle(unique)).toEqual({ rows: unique, distinct: unique });
    const after = await metrics();
    const skips = (reason: string): number =>
      metricSum(after, 'user_service_cdc_skipped_total', { topic, reason }) -
      metricSum(before, 'user_service_cdc_skipped_total', { topic, reason });
    expect({
      not_json: skips('not_json'),
      missing_source: skips('missing_source'),
      too_large: skips('too_large'),
      unknown_op: skips('unknown_op'),
      tombstone: skips('tombstone'),
    }).toEqual({ not_json: 1, missing_source: 1, too_large: 2, unknown_op: 1, tombstone: 1 });
    const ids = await database.query<{ id: string }>(
      "SELECT id FROM users WHERE id LIKE 'mal-%' ORDER BY id",
    );
    expect(ids.map((r) => r.id)).toEqual(['mal-1', 'mal-2', 'mal-3']);
  });

  it('answers GET /users/:id with 401 for a missing or forged token and 404 for an unknown user', async () => {
    expect((await fetch(`${baseUrl}/users/dup-1`)).status).toBe(401);
    expect((await getUser('dup-1', signToken('caller', 'not-the-secret-at-all'))).status).toBe(401);
    expect((await getUser('nobody-here')).status).toBe(404);
  });

  it('answers every GET /users/:id correctly while auth processes are SIGKILLed and restarted', async () => {
    const [id, name] = (
      await database.query<{ id: string; name: string }>(
        "SELECT id, name FROM users WHERE id LIKE 'dup-%' LIMIT 1",
      )
    ).map((r) => [r.id, r.name])[0];
    const results: number[] = [];
    const failures: string[] = [];
    let wrong = 0;
    const worker = async (): Promise<void> => {
      while (results.length < 600) {
        const res = await getUser(id);
        results.push(res.status);
        if (res.status === 200 && ((await res.json()) as { name: string }).name !== name) wrong++;
        else if (res.status !== 200) failures.push(`${res.status} ${await res.text()}`);
      }
    };
    const chaos = (async () => {
      // one auth process at a time is SIGKILLed and restarted, twice
      for (const [victim, at] of [
        [0, 100],
        [1, 350],
      ] as const) {
        await waitFor(() => results.length >= at, 20_000, 5);
        await auth[victim].stop('SIGKILL');
        await waitFor(() => results.length >= at + 100, 20_000, 5);
        await auth[victim].start(AUTH_READY);
      }
    })();
    await Promise.all([chaos, ...Array.from({ length: 6 }, worker)]);
    expect({
      requests: results.length,
      failures,
      wrong,
    }).toEqual({
      requests: results.length,
      failures: [],
      wrong: 0,
    });
    expect(
      metricSum(await metrics(), 'grpc_connection_switched_total', { pool: 'auth' }),
    ).toBeGreaterThan(0);
  });

  it('answers 503 naming the pool while every auth process is down, and recovers when they return', async () => {
    await Promise.all(auth.map((a) => a.stop('SIGKILL')));
    const res = await getUser('dup-1');
    expect(res.status).toBe(503);
    expect(((await res.json()) as { message: string }).message).toMatch(/grpc pool "auth"/);
    // health checks and connectivity watching eject the dead connections within a check interval
    await waitFor(async () => (await health()).status === 'error', 5_000, 100);
    const down = await health();
    expect(down.status).toBe('error');
    expect(down.details['grpc-pool:auth'].status).toBe('down');
    await Promise.all(auth.map((a) => a.start(AUTH_READY)));
    expect(
      await waitFor(async () => (await getUser('nobody-here')).status === 404, 15_000, 200),
    ).toBe(true);
  });

  it('reports each part on GET /health: kafka, dedup store, gRPC pool, database, event loop', async () => {
    expect(await waitFor(async () => (await health()).status === 'ok', 15_000, 200)).toBe(true);
    const report = await health();
    expect(Object.keys(report.details).sort()).toEqual([
      'database',
      'dedup-store',
      'event-loop',
      'grpc-pool:auth',
      'kafka',
    ]);
    expect(Object.values(report.details).map((d) => d.status)).toEqual([
      'up',
      'up',
      'up',
      'up',
      'up',
    ]);
  });

  it("serves /metrics that promtool accepts, with both libraries' metric families", async () => {
    const text = await metrics();
    for (const name of [
      'kafka_events_processed_total',
      'kafka_event_deduplicated_total',
      'kafka_dedup_live_entries',
      'grpc_connection_switched_total',
      'grpc_fallback_retry_total',
      'grpc_pool_requests_total',
      'grpc_pool_healthy_connections',
      'user_service_cdc_skipped_total',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    const ours = families(text, ['kafka_', 'grpc_', 'user_service_']);
    expect(promtoolCheck(ours)).toBe('');
    const findings = promtoolCheck(text)
      .split('\n')
      .filter((l) => l.trim() !== '' && !/^nodejs_active_\w+_total non-counter metrics/.test(l));
    expect(findings).toEqual([]);
  });
});
