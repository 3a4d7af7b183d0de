import { cdcStream } from '../scripts/demo/cdc-events';
import { createTopic, kcatProduce, KAFKA_BROKER, uniqueTopic } from './support/kcat';
import { ensureBuilt } from './support/user-service-build';
import { waitForCaughtUp } from './support/user-service-kafka';
import { PrivateDatabase } from './support/user-service-postgres';
import { AppProcess, portBlock, USER_SERVICE_READY } from './support/user-service-processes';

/** What a user sees when the environment is wrong: the start stops, naming the variable. */
describe('user-service start-up with a bad environment (real process)', () => {
  // a cold checkout builds the app here, not inside a test's time limit
  beforeAll(() => void ensureBuilt('user-service'), 180_000);

  it('exits non-zero naming each invalid variable and its value', async () => {
    const app = new AppProcess('user-service', {
      GRPC_POOL_SIZE: 'three',
      KAFKA_DEDUP_STORE: 'disk',
      DATABASE_URL: 'mysql://db/users',
    });
    await expect(app.start(/listening on/, 60_000)).rejects.toThrow(/exited \(1\)/);
    expect(app.output).toMatch(/GRPC_POOL_SIZE="three" \(expected an integer from 1 to 64\)/);
    expect(app.output).toMatch(
      /KAFKA_DEDUP_STORE="disk" \(expected one of memory, redis, postgres\)/,
    );
    expect(app.output).toMatch(/DATABASE_URL="mysql:\/\/db\/users" \(expected a URL/);
  });

  it('waits for an unreachable broker with a log line per attempt, then stops naming it', async () => {
    const app = new AppProcess('user-service', {
      KAFKA_BROKERS: '127.0.0.1:1',
      KAFKA_STARTUP_RETRIES: '2',
      HTTP_PORT: '0',
      GRPC_URL: '127.0.0.1:0',
    });
    await expect(app.start(/listening on/, 60_000)).rejects.toThrow(/exited \(1\)/);
    expect(
      app.output.match(/waiting for the Kafka broker at 127\.0\.0\.1:1 \(attempt \d\/3\)/g),
    ).toHaveLength(2);
    expect(app.output).toMatch(/Kafka broker 127\.0\.0\.1:1 unreachable after 3 attempts/);
  });
});

describe('user-service rollback knobs (real process, PostgreSQL)', () => {
  const topic = uniqueTopic('cdc.users.rollback');
  const database = new PrivateDatabase();
  const [httpPort, grpcPort] = portBlock(2);
  const app = new AppProcess('user-service', {
    KAFKA_BROKERS: KAFKA_BROKER,
    KAFKA_GROUP_ID: `${topic}-g`,
    CDC_TOPIC: topic,
    DATABASE_URL: database.url,
    HTTP_PORT: String(httpPort),
    GRPC_URL: `127.0.0.1:${grpcPort}`,
    AUTH_GRPC_URLS: '127.0.0.1:1',
    KAFKA_DEDUP_TTL_SECONDS: '0',
    GRPC_POOL_SIZE: '1',
  });

  beforeAll(async () => {
    await Promise.all([database.create(), createTopic(topic, 3)]);
    await app.start(USER_SERVICE_READY);
  }, 120_000);

  afterAll(async () => {
    await app.stop('SIGKILL');
    await database.drop();
  });

  it('KAFKA_DEDUP_TTL_SECONDS=0 lets every copy through (one extra row each); GRPC_POOL_SIZE=1 opens one connection', async () => {
    const stream = cdcStream({ changes: 100, idPrefix: 'rb', lsnBase: 40_000_000, seed: 2 });
    kcatProduce(topic, stream.records);
    expect(await waitForCaughtUp(`${topic}-g-server`, topic)).toBe(true);
    expect(await database.eventCounts()).toEqual({
      rows: stream.records.length,
      distinct: stream.unique,
    });
    const health = (await (await fetch(`http://127.0.0.1:${httpPort}/health`)).json()) as {
      details: Record<string, { size?: number }>;
    };
    expect(health.details['grpc-pool:auth'].size).toBe(1);
  });
});
