import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EchoProcess } from '../scripts/support/echo-process';
import { createTopic, kcatProduce, KAFKA_BROKER, uniqueTopic } from './support/kcat';
import { sleep, waitFor } from './support/wait';
import {
  findNode20,
  nodeVersion,
  PACKAGES_DIR,
  ROOT,
  ScratchApp,
  type ScratchTarget,
} from './packages/scratch-app';

const TARBALLS = ['nest-resilience-grpc-pool-0.1.0.tgz', 'nest-resilience-kafka-dedup-0.1.0.tgz'];
const OPTIONAL_PEERS = [
  'ioredis',
  '@nestjs/terminus',
  'prom-client',
  '@willsoto/nestjs-prometheus',
  'pg',
  '@nestjs-cls/transactional',
  '@electric-sql/pglite',
];

/** Times each step, for the log of a CI run. */
function timed<T>(label: string, step: () => T): T {
  const started = Date.now();
  const result = step();
  console.log(`[packages] ${label}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

describe('the packed libraries installed into fresh Nest apps outside the repo (real Kafka, real gRPC server)', () => {
  const echo = new EchoProcess('pkg-echo');
  const apps: ScratchApp[] = [];

  beforeAll(async () => {
    timed('npm run pack', () =>
      execFileSync('bash', [join(ROOT, 'scripts', 'pack.sh')], { stdio: 'pipe', timeout: 120_000 }),
    );
    await echo.start();
  }, 150_000);

  afterAll(async () => {
    for (const app of apps) {
      await app.stop();
      app.remove();
    }
    await echo.kill();
  });

  it('npm run pack writes exactly two tarballs of built JS with declarations, README, LICENSE and CHANGELOG — no sources, specs or maps', () => {
    expect(readdirSync(PACKAGES_DIR).sort()).toEqual(TARBALLS);
    for (const tarball of TARBALLS) {
      const files = execFileSync('tar', ['tzf', join(PACKAGES_DIR, tarball)], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((file) => file.replace(/^package\//, ''));
      for (const file of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md']) {
        expect(files).toContain(file);
      }
      expect(files).toContain('dist/index.js');
      expect(files).toContain('dist/index.d.ts');
      const stray = files.filter(
        (file) =>
          !['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(file) &&
          !/^dist\/.+\.(js|d\.ts)$/.test(file) &&
          !/^migrations\/[\w-]+\.sql$/.test(file), // kafka-dedup's PostgreSQL inbox table
      );
      expect(stray).toEqual([]);
      expect(files.filter((file) => /\.spec\./.test(file))).toEqual([]);
      const js = files.filter((file) => file.endsWith('.js'));
      expect(js.filter((file) => !files.includes(file.replace(/\.js$/, '.d.ts')))).toEqual([]);
    }
  });

  const targets: ScratchTarget[] = [
    { nest: 11, schedule: '^6.0.0', type: 'commonjs', node: findNode20() },
    { nest: 12, schedule: '^12.0.0', type: 'module', node: process.execPath },
    // Nest 12 is ESM-only: a CommonJS app on the oldest supported Node loads it through
    // require(esm). Without @nestjs/schedule, an optional peer: the TTL sweep runs on its own timer.
    { nest: 12, type: 'commonjs', node: findNode20() },
  ];

  it.each(
    targets.map((target) => ({
      ...target,
      version: nodeVersion(target.node),
      scheduler: target.schedule ? 'its own ScheduleModule' : 'no @nestjs/schedule',
    })),
  )(
    'a $type Nest $nest app on Node $version with $scheduler installs the tarballs with only the required peers, boots, and runs a Kafka event once through a pooled gRPC call',
    async (target) => {
      const app = new ScratchApp(target);
      apps.push(app);
      timed(`Nest ${target.nest}: npm install`, () =>
        app.install(TARBALLS.map((tarball) => join(PACKAGES_DIR, tarball))),
      );
      console.log(
        `[packages] Nest ${target.nest}: @nestjs/core ${app.version('@nestjs/core')}, @nestjs/microservices ${app.version('@nestjs/microservices')}, node ${target.version}`,
      );
      expect(app.version('@nestjs/core').split('.')[0]).toBe(String(target.nest));
      expect(app.version('@nestjs/microservices').split('.')[0]).toBe(String(target.nest));
      const absent = target.schedule ? OPTIONAL_PEERS : [...OPTIONAL_PEERS, '@nestjs/schedule'];
      expect(absent.filter((peer) => app.has(peer))).toEqual([]);
      timed(`Nest ${target.nest}: tsc`, () => app.compile());

      // The Redis store without ioredis installed fails with the package to install.
      const redisWithoutIoredis = execFileSync(
        target.node,
        [
          '--input-type=commonjs',
          '-e',
          `try { new (require('@nest-resilience/kafka-dedup').RedisDedupStore)(); console.log('constructed'); }
           catch (error) { console.log(error.message); }`,
        ],
        { cwd: app.dir, encoding: 'utf8' },
      );
      expect(redisWithoutIoredis).toContain('npm install ioredis');

      const topic = uniqueTopic(`pkg-nest${target.nest}`);
      await createTopic(topic);
      const booted = Date.now();
      await app.start({
        KAFKA_BROKER,
        TOPIC: topic,
        GROUP: `${topic}-g`,
        GRPC_URL: echo.address,
      });
      console.log(`[packages] Nest ${target.nest}: boot ${(Date.now() - booted) / 1000} s`);
      // The TTL sweep joins the app's SchedulerRegistry when there is one.
      expect(app.lines[0]).toEqual({
        ready: true,
        node: target.version,
        sweepInRegistry: target.schedule ? true : null,
      });

      // One partition, one key: the duplicate sits between the two ids, so once evt-b ran the
      // duplicate was consumed (and skipped) before it.
      const record = (id: string) => ({
        key: 'k',
        value: JSON.stringify({ id }),
        headers: { 'x-event-id': id },
      });
      kcatProduce(topic, [record('evt-a'), record('evt-a'), record('evt-b')]);
      const done = await waitFor(() => app.handled().includes('evt-b'), 30_000);
      expect({ done, stderr: app.stderr }).toEqual({ done: true, stderr: app.stderr });
      await sleep(300); // nothing else may arrive
      expect(app.handled()).toEqual(['evt-a', 'evt-b']);
      const replies = app.lines.filter((line) => 'handled' in line).map((line) => line.reply);
      expect(replies).toEqual([
        expect.objectContaining({ id: 'evt-a', server: 'pkg-echo' }),
        expect.objectContaining({ id: 'evt-b', server: 'pkg-echo' }),
      ]);
      await app.stop();
    },
    300_000,
  );
});
