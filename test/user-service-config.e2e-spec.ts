import { AppProcess } from './support/user-service-processes';

/** What a user sees when the environment is wrong: the start stops, naming the variable. */
describe('user-service start-up with a bad environment (real process)', () => {
  it('exits non-zero naming each invalid variable and its value', async () => {
    const app = new AppProcess('user-service', {
      GRPC_POOL_SIZE: 'three',
      KAFKA_DEDUP_STORE: 'disk',
      DATABASE_URL: 'mysql://db/users',
    });
    await expect(app.start(/listening on/, 60_000)).rejects.toThrow(/exited \(1\)/);
    expect(app.output).toMatch(/GRPC_POOL_SIZE="three" \(expected an integer from 1 to 64\)/);
    expect(app.output).toMatch(/KAFKA_DEDUP_STORE="disk" \(expected one of memory, redis\)/);
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
