import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { cdcStream } from '../scripts/demo/cdc-events';
import { createTopic, kcatProduce, KAFKA_BROKER, uniqueTopic, waitForGroup } from './support/kcat';
import { PrivateDatabase } from './support/user-service-postgres';
import { metricSum, waitForCaughtUp } from './support/user-service-kafka';
import { AppProcess, portBlock, USER_SERVICE_READY } from './support/user-service-processes';
import { waitFor } from './support/wait';

/**
 * KAFKA_DEDUP_STORE=postgres: the dedup id is recorded in the same transaction as the read model
 * and user_events writes, so even a process killed mid-stream leaves one row per change.
 */
describe.each(['false', 'true'])(
  'user-service with the PostgreSQL inbox store (real process, real PostgreSQL; KAFKA_DEDUP_BATCH_TRANSACTIONS=%s)',
  (batchTransactions) => {
    const topic = uniqueTopic('cdc.users.inbox');
    const group = `${topic}-g`;
    const database = new PrivateDatabase();
    const [httpPort, grpcPort] = portBlock(2);
    const app = new AppProcess('user-service', {
      KAFKA_BROKERS: KAFKA_BROKER,
      KAFKA_GROUP_ID: group,
      CDC_TOPIC: topic,
      KAFKA_DEDUP_STORE: 'postgres',
      KAFKA_DEDUP_BATCH_TRANSACTIONS: batchTransactions,
      DATABASE_URL: database.url,
      HTTP_PORT: String(httpPort),
      GRPC_URL: `127.0.0.1:${grpcPort}`,
      AUTH_GRPC_URLS: '127.0.0.1:1',
    });
    let unique = 0;

    async function settle(expectedUnique: number): Promise<{ rows: number; distinct: number }> {
      await waitFor(
        async () => (await database.eventCounts()).distinct >= expectedUnique,
        45_000,
        200,
      );
      expect(await waitForCaughtUp(`${group}-server`, topic, 90_000)).toBe(true);
      return database.eventCounts();
    }

    beforeAll(async () => {
      await Promise.all([database.create(), createTopic(topic, 3)]);
      await app.start(USER_SERVICE_READY);
    }, 180_000);

    afterAll(async () => {
      await app.stop('SIGKILL');
      await database.drop();
    }, 60_000);

    it('writes one row per unique change and keeps one inbox row per id', async () => {
      const stream = cdcStream({ changes: 300, idPrefix: 'inbox', lsnBase: 50_000_000, seed: 9 });
      kcatProduce(topic, stream.records);
      unique += stream.unique;
      expect(await settle(unique)).toEqual({ rows: unique, distinct: unique });
      const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      expect(metricSum(text, 'kafka_event_deduplicated_total', { topic, store: 'postgres' })).toBe(
        stream.duplicates,
      );
      const [{ n }] = await database.query<{ n: string }>(
        'SELECT count(*) AS n FROM kafka_dedup_inbox',
      );
      expect(Number(n)).toBe(unique);
    });

    it('rolls a failed write back with its id, and processes the redelivery once', async () => {
      const failingLsn = 60_000_000 + 8 * 7;
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
        const stream = cdcStream({
          changes: 60,
          idPrefix: 'inboxfail',
          lsnBase: 60_000_000,
          seed: 4,
        });
        kcatProduce(topic, stream.records);
        unique += stream.unique;
        expect(await settle(unique)).toEqual({ rows: unique, distinct: unique });
        const [{ fired }] = await database.query<{ fired: string }>(
          'SELECT last_value AS fired FROM e2e_fail_once',
        );
        expect(Number(fired)).toBeGreaterThanOrEqual(2);
      } finally {
        await database.query(
          'DROP TRIGGER e2e_fail_once ON user_events; DROP FUNCTION e2e_fail_once(); DROP SEQUENCE e2e_fail_once',
        );
      }
    });

    it('leaves one row per change after a SIGKILL mid-stream, a restart and a full replay', async () => {
      const stream = cdcStream({
        changes: 1500,
        idPrefix: 'inboxkill',
        lsnBase: 70_000_000,
        seed: 8,
      });
      kcatProduce(topic, stream.records);
      unique += stream.unique;
      await waitFor(
        async () => (await database.eventCounts()).distinct > unique - stream.unique + 50,
        20_000,
        20,
      );
      await app.stop('SIGKILL'); // in-flight transactions roll back on the server; offsets may lag behind
      expect((await database.eventCounts()).distinct).toBeLessThan(unique); // killed mid-stream
      await app.start(USER_SERVICE_READY);
      // the connector restarts uncleanly too: everything of this test again
      kcatProduce(topic, stream.records);
      expect(await waitForGroup(`${group}-server`, 1, 60_000)).toBe(true);
      expect(await settle(unique)).toEqual({ rows: unique, distinct: unique });
    }, 150_000);
  },
);

/**
 * The default (no KAFKA_DEDUP_STORE, no DATABASE_URL): the inbox store on the service's embedded
 * PGlite, in the transaction of the read model's writes.
 */
describe.each(['false', 'true'])(
  'user-service with the inbox store on embedded PGlite (the default; real process; KAFKA_DEDUP_BATCH_TRANSACTIONS=%s)',
  (batchTransactions) => {
    const topic = uniqueTopic('cdc.users.pglite');
    const group = `${topic}-g`;
    const dataDir = mkdtempSync(join(tmpdir(), 'user-service-pglite-'));
    const [httpPort, grpcPort] = portBlock(2);
    const app = new AppProcess('user-service', {
      KAFKA_BROKERS: KAFKA_BROKER,
      KAFKA_GROUP_ID: group,
      CDC_TOPIC: topic,
      KAFKA_DEDUP_STORE: '', // unset: the default
      KAFKA_DEDUP_BATCH_TRANSACTIONS: batchTransactions,
      DATABASE_URL: '',
      PGLITE_DATA_DIR: dataDir,
      HTTP_PORT: String(httpPort),
      GRPC_URL: `127.0.0.1:${grpcPort}`,
      AUTH_GRPC_URLS: '127.0.0.1:1',
    });

    beforeAll(async () => {
      await createTopic(topic, 3);
      await app.start(USER_SERVICE_READY);
    }, 180_000);

    afterAll(async () => {
      if (app.running) await app.stop('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }, 60_000);

    it('writes one row per unique change and one inbox row per id, both in PGlite', async () => {
      const stream = cdcStream({ changes: 300, idPrefix: 'pglite', lsnBase: 80_000_000, seed: 5 });
      kcatProduce(topic, stream.records);
      const metrics = async (): Promise<string> =>
        (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      const labels = { topic, store: 'postgres' };
      expect(
        await waitFor(
          async () =>
            metricSum(await metrics(), 'kafka_events_processed_total', labels) >= stream.unique,
          45_000,
          200,
        ),
      ).toBe(true);
      expect(await waitForCaughtUp(`${group}-server`, topic, 90_000)).toBe(true);
      const text = await metrics();
      expect(metricSum(text, 'kafka_events_processed_total', labels)).toBe(stream.unique);
      expect(metricSum(text, 'kafka_event_deduplicated_total', labels)).toBe(stream.duplicates);

      await app.stop('SIGTERM'); // closes PGlite: its directory can be opened here
      const db = new PGlite(dataDir);
      try {
        const events = await db.query<{ rows: number; distinct: number }>(
          'SELECT count(*)::int AS rows, count(DISTINCT (source_lsn, tx_id))::int AS distinct FROM user_events',
        );
        expect(events.rows[0]).toEqual({ rows: stream.unique, distinct: stream.unique });
        const inbox = await db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM kafka_dedup_inbox',
        );
        expect(inbox.rows[0].n).toBe(stream.unique);
      } finally {
        await db.close();
      }
    }, 120_000);
  },
);
