import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import {
  DedupModule,
  DedupService,
  DedupStoreError,
  type DedupModuleOptions,
} from '@nest-resilience/kafka-dedup';
import { startConsumer } from './support/dedup-consumer';
import { uniqueTopic } from './support/kcat';
import { PrivateRedis } from './support/redis-server';
import { makeTestPki } from './support/tls';

const PORT = 17200 + Math.floor(Math.random() * 500);

/** Boots the dedup module alone (its bootstrap check runs in init) and closes it again. */
async function boot(options: DedupModuleOptions): Promise<void> {
  const moduleRef = await Test.createTestingModule({
    imports: [DedupModule.forRoot({ cleanupCron: false, ...options })],
  }).compile();
  try {
    await moduleRef.init();
  } finally {
    await moduleRef.close();
  }
}

async function startError(options: DedupModuleOptions): Promise<DedupStoreError> {
  const error = await boot(options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DedupStoreError);
  return error as DedupStoreError;
}

describe('kafka-dedup with a misconfigured Redis fails the start naming the cause', () => {
  beforeEach(() => register.clear());

  describe('a password (requirepass)', () => {
    const redis = new PrivateRedis(PORT, ['--requirepass', 's3cret']);
    beforeAll(() => redis.start());
    afterAll(() => redis.stop());

    it('a Kafka consumer app with a wrong password does not start, and the error says WRONGPASS', async () => {
      const topic = uniqueTopic('dedup-badpass');
      const started = startConsumer({
        topic,
        group: `${topic}-g`,
        dedup: {
          store: 'redis',
          redis: { url: `redis://:wrong@127.0.0.1:${redis.port}` },
        },
        behaviour: () => undefined,
      });
      const error = await started.then(
        async (app) => {
          await app.close();
          return undefined;
        },
        (e: unknown) => e as DedupStoreError,
      );
      expect(error).toBeInstanceOf(DedupStoreError);
      expect(error!.message).toMatch(/startup check: WRONGPASS/);
      expect(error!.lastConnectionError?.message).toMatch(/WRONGPASS/);
    });

    it('no password: NOAUTH; the right password: starts', async () => {
      expect((await startError({ store: 'redis', redis: { url: redis.url } })).message).toMatch(
        /NOAUTH/,
      );
      await expect(
        boot({ store: 'redis', redis: { url: `redis://:s3cret@127.0.0.1:${redis.port}` } }),
      ).resolves.toBeUndefined();
    });

    it('allowDegradedStart starts anyway, and a failed claim carries the last connection error', async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [
          DedupModule.forRoot({
            cleanupCron: false,
            store: 'redis',
            onStoreError: 'throw',
            redis: { url: `redis://:wrong@127.0.0.1:${redis.port}`, allowDegradedStart: true },
          }),
        ],
      }).compile();
      try {
        await moduleRef.init();
        const error = await moduleRef
          .get(DedupService)
          .acquire({ scope: 's', id: 'e1' })
          .then(
            () => undefined,
            (e: unknown) => e as DedupStoreError,
          );
        expect(error).toBeInstanceOf(DedupStoreError);
        expect(error!.lastConnectionError?.message).toMatch(/WRONGPASS/);
        expect(error!.message).toMatch(/last connection error: WRONGPASS/);
      } finally {
        await moduleRef.close();
      }
    });
  });

  describe('an ACL user', () => {
    const redis = new PrivateRedis(PORT + 1, [
      '--user',
      'alice',
      'on',
      '>alicepw',
      '~dedup-acl:*',
      '+@all',
      '--user',
      'bob',
      'on',
      '>bobpw',
      '~elsewhere:*',
      '+@all',
    ]);
    beforeAll(() => redis.start());
    afterAll(() => redis.stop());

    it('fails with a wrong ACL password (WRONGPASS) and without access to the key prefix (NOPERM); starts when permitted', async () => {
      const url = (user: string, password: string): string =>
        `redis://${user}:${password}@127.0.0.1:${redis.port}`;
      const keyPrefix = 'dedup-acl:';
      expect(
        (await startError({ store: 'redis', redis: { url: url('alice', 'nope'), keyPrefix } }))
          .message,
      ).toMatch(/WRONGPASS/);
      expect(
        (await startError({ store: 'redis', redis: { url: url('bob', 'bobpw'), keyPrefix } }))
          .message,
      ).toMatch(/NOPERM/);
      await expect(
        boot({ store: 'redis', redis: { url: url('alice', 'alicepw'), keyPrefix } }),
      ).resolves.toBeUndefined();
    });
  });

  describe('TLS (rediss://)', () => {
    const pki = makeTestPki();
    const redis = new PrivateRedis(PORT + 2, [
      '--port',
      '0',
      '--tls-port',
      String(PORT + 2),
      '--tls-cert-file',
      join(pki.dir, 'server.crt'),
      '--tls-key-file',
      join(pki.dir, 'server.key'),
      '--tls-ca-cert-file',
      pki.caPath,
      '--tls-auth-clients',
      'no',
    ]);
    beforeAll(() => redis.start());
    afterAll(() => redis.stop());

    it('an untrusted server certificate fails the start naming the certificate error; trusting its CA starts', async () => {
      const url = `rediss://127.0.0.1:${redis.port}`;
      const error = await startError({ store: 'redis', redis: { url } });
      expect(error.message).toMatch(/certificate/i);
      expect(error.lastConnectionError?.message).toMatch(/certificate/i);
      await expect(
        boot({ store: 'redis', redis: { url, options: { tls: { ca: pki.ca } } } }),
      ).resolves.toBeUndefined();
    });
  });

  it('Redis not answering at all fails the start after startupTimeout, naming the connection error', async () => {
    const started = Date.now();
    const error = await startError({
      store: 'redis',
      redis: { url: `redis://127.0.0.1:${PORT + 3}`, startupTimeout: 1_000 },
    });
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
