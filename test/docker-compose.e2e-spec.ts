import { CDC_TOPIC } from './support/user-service-env'; // first: sets CDC_TOPIC
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { register } from 'prom-client';
import {
  validateAuthServiceEnv,
  AUTH_SERVICE_ENV_VARS,
} from '../apps/auth-service/src/auth-service.env';
import {
  USER_SERVICE_ENV_VARS,
  validateUserServiceEnv,
} from '../apps/user-service/src/config/user-service.env';
import {
  createUserServiceApp,
  type UserServiceApp,
} from '../apps/user-service/src/user-service.app';
import { metricNames } from '../scripts/demo/prometheus-text';
import { KAFKA_BROKER } from './support/kcat';
import { PrivateDatabase } from './support/user-service-postgres';
import { portBlock } from './support/user-service-processes';

const ROOT = join(__dirname, '..');
const DOCKER = join(ROOT, 'docker');

interface ComposeService {
  image?: string;
  build?: { target?: string };
  environment?: Record<string, string | null>;
  ports?: ({ target: number; published: number | string } | string)[];
  healthcheck?: { test: string[] };
  restart?: string;
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
}

/** `docker-compose config` (Debian's docker-compose: validates and resolves anchors), as JSON. */
function composeConfig(): { services: Record<string, ComposeService> } {
  const yaml = execFileSync(
    'docker-compose',
    ['-f', join(DOCKER, 'docker-compose.yml'), 'config'],
    {
      encoding: 'utf8',
      env: { ...process.env, AUTH_TOKEN_SECRET: '' },
    },
  );
  // PyYAML comes with docker-compose; no YAML parser is a dependency of the project
  const json = execFileSync(
    'python3',
    ['-c', 'import sys,yaml,json; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
    {
      input: yaml,
      encoding: 'utf8',
    },
  );
  return JSON.parse(json);
}

/** ENV defaults a Dockerfile stage sets (`ENV A=1 B=2` lines after `FROM … AS <stage>`). */
function dockerfileEnv(stage: string): Record<string, string> {
  const text = readFileSync(join(DOCKER, 'Dockerfile'), 'utf8');
  const section =
    text.split(/^FROM /m).find((s) => new RegExp(`AS ${stage}(\\s|$)`).test(s.split('\n')[0])) ??
    '';
  const env: Record<string, string> = {};
  for (const line of section.split('\n').filter((l) => l.startsWith('ENV '))) {
    for (const [, k, v] of line.slice(4).matchAll(/(\w+)=(\S+)/g)) env[k] = v;
  }
  return env;
}

const PROMQL_WORDS = new Set([
  'sum',
  'rate',
  'irate',
  'increase',
  'avg',
  'max',
  'min',
  'count',
  'histogram_quantile',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'offset',
  'bool',
  'topk',
  'clamp_min',
]);

/** Metric names a PromQL expression selects (label matchers, grouping labels and ranges removed). */
function promqlMetrics(expr: string): string[] {
  const stripped = expr
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '')
    .replace(/"[^"]*"/g, '');
  return [...stripped.matchAll(/[a-zA-Z_:][\w:]*/g)]
    .map((m) => m[0])
    .filter((w) => !PROMQL_WORDS.has(w));
}

describe('docker/: compose file, Dockerfile, Prometheus and Grafana provisioning agree with the app', () => {
  const compose = composeConfig();
  const services = compose.services;
  const userServices = ['user-service-1', 'user-service-2'];
  const authServices = ['auth-service'];
  const userEnv = (name: string): Record<string, string> => ({
    ...dockerfileEnv('user-service'),
    ...(services[name].environment as Record<string, string>),
  });
  const authEnv = (name: string): Record<string, string> => ({
    ...dockerfileEnv('auth-service'),
    ...(services[name].environment as Record<string, string>),
  });
  let exposition = '';
  /** HTTP status of each health path on the real app (404 = not served). */
  const served: Record<string, number> = {};

  beforeAll(async () => {
    // the real /metrics of the app, to check every name the dashboard and Prometheus use
    register.clear();
    const database = new PrivateDatabase();
    await database.create();
    const [httpPort, grpcPort] = portBlock(2);
    let app: UserServiceApp | undefined;
    try {
      app = await createUserServiceApp({
        logger: ['error'],
        env: {
          KAFKA_BROKERS: KAFKA_BROKER,
          KAFKA_GROUP_ID: `${CDC_TOPIC}-g`,
          DATABASE_URL: database.url,
          HTTP_PORT: String(httpPort),
          GRPC_URL: `127.0.0.1:${grpcPort}`,
          AUTH_GRPC_URLS: '127.0.0.1:1',
        },
      });
      await app.start();
      exposition = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      for (const path of ['/health/live', '/health/ready', '/health'])
        served[path] = (await fetch(`http://127.0.0.1:${httpPort}${path}`)).status;
    } finally {
      await app?.app.close();
      await database.drop();
    }
  }, 120_000);

  it('is a valid compose file with every part, each with a healthcheck and a restart policy', () => {
    expect(Object.keys(services).sort()).toEqual([
      'auth-service',
      'grafana',
      'kafka',
      'postgres',
      'prometheus',
      'redis',
      'user-service-1',
      'user-service-2',
    ]);
    for (const [name, service] of Object.entries(services)) {
      expect({ name, healthcheck: !!service.healthcheck?.test, restart: service.restart }).toEqual({
        name,
        healthcheck: true,
        restart: 'unless-stopped',
      });
    }
  });

  it('checks user-service health on the paths and port the app serves: compose on /health/ready, the image on /health/live', () => {
    expect(served['/health/live']).toBe(200);
    expect([200, 503]).toContain(served['/health/ready']);
    const url = (test: string[]): URL => new URL(/fetch\('([^']+)'\)/.exec(test.join(' '))![1]);
    for (const name of userServices) {
      const check = new URL(url(services[name].healthcheck!.test));
      expect([check.hostname, Number(check.port), check.pathname]).toEqual([
        '127.0.0.1',
        validateUserServiceEnv(userEnv(name)).httpPort,
        '/health/ready',
      ]);
    }
    const dockerfile = readFileSync(join(DOCKER, 'Dockerfile'), 'utf8');
    const image = /AS user-service[\s\S]*HEALTHCHECK[^\n]*\n\s*CMD (\[.*\])/.exec(dockerfile)![1];
    expect(JSON.parse(image).join(' ')).toContain("process.env.HTTP_PORT||3000)+'/health/live'");
    expect(dockerfileEnv('user-service').HTTP_PORT).toBe('3000');
  });

  it('runs the broker image at the version the tests use (scripts/kafka.sh)', () => {
    const version = /KAFKA_VERSION="\$\{KAFKA_VERSION:-([\d.]+)\}"/.exec(
      readFileSync(join(ROOT, 'scripts/kafka.sh'), 'utf8'),
    )?.[1];
    expect(services.kafka.image).toBe(`apache/kafka:${version}`);
  });

  it('starts user-service only once its dependencies are healthy', () => {
    for (const name of userServices) {
      const deps = Object.fromEntries(
        Object.entries(services[name].depends_on ?? {}).map(([k, v]) => [k, v.condition]),
      );
      expect(deps).toEqual(
        Object.fromEntries(
          ['kafka', 'redis', 'postgres', ...authServices].map((d) => [d, 'service_healthy']),
        ),
      );
    }
  });

  it('configures user-service with variables the app knows and accepts, one group, one Redis store', () => {
    for (const name of userServices) {
      const env = userEnv(name);
      expect(Object.keys(env).filter((k) => !USER_SERVICE_ENV_VARS.includes(k))).toEqual([]);
      const config = validateUserServiceEnv(env);
      expect(config.dedupStore).toBe('redis');
      expect(new URL(config.dedupRedisUrl).hostname).toBe('redis');
      expect(config.kafkaBrokers).toEqual([
        `kafka:${/PLAINTEXT:\/\/kafka:(\d+)/.exec(services.kafka.environment!.KAFKA_ADVERTISED_LISTENERS!)![1]}`,
      ]);
      const db = new URL(config.databaseUrl!);
      const pg = services.postgres.environment!;
      expect([db.hostname, db.username, db.password, db.pathname]).toEqual([
        'postgres',
        pg.POSTGRES_USER,
        pg.POSTGRES_PASSWORD,
        `/${pg.POSTGRES_DB}`,
      ]);
      // the published port maps to the port the app listens on
      const ports = (services[name].ports ?? []).map((p) =>
        typeof p === 'string' ? Number(p.split(':')[1]) : p.target,
      );
      expect(ports).toEqual([config.httpPort]);
      // one name, every replica's address: the pool's DNS discovery, refreshed and sized
      const authPort = validateAuthServiceEnv(authEnv('auth-service')).grpcUrl.split(':')[1];
      expect(config.authUrls).toEqual([`dns:///auth-service:${authPort}`]);
      expect(config.authDnsServers).toBeUndefined(); // the container's resolver: Docker's DNS
      expect(config.authDnsRefreshMs).toBeLessThanOrEqual(10_000);
      expect(config.grpcPoolSizeMax).toBeGreaterThan(config.grpcPoolSize);
    }
    expect(
      new Set(userServices.map((n) => validateUserServiceEnv(userEnv(n)).kafkaGroupId)).size,
    ).toBe(1);
  });

  it('runs auth-service as one service with 3 replicas, each named after its own container', () => {
    expect(services['auth-service'].deploy?.replicas).toBe(3);
    const env = authEnv('auth-service');
    expect(Object.keys(env).filter((k) => !AUTH_SERVICE_ENV_VARS.includes(k))).toEqual([]);
    // no AUTH_INSTANCE: bound to every interface, a replica answers as its host name
    expect(env.AUTH_INSTANCE).toBeUndefined();
    const config = validateAuthServiceEnv(env);
    expect(config.grpcUrl).toMatch(/^0\.0\.0\.0:/);
    expect(config.instance).toBe(hostname());
    expect(config.metricsPort).toBeGreaterThan(0);
  });

  it('has Prometheus scrape /metrics of both user-service replicas on the app port, and every auth replica', () => {
    const prometheus = execFileSync(
      'python3',
      ['-c', 'import sys,yaml,json; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
      {
        input: readFileSync(join(DOCKER, 'prometheus/prometheus.yml')),
        encoding: 'utf8',
      },
    );
    const [job, authJob] = JSON.parse(prometheus).scrape_configs;
    expect(job.metrics_path).toBe('/metrics');
    const port = validateUserServiceEnv(userEnv('user-service-1')).httpPort;
    expect(job.static_configs[0].targets).toEqual(userServices.map((s) => `${s}:${port}`));
    // a configuration Prometheus itself accepts (dns_sd_configs included)
    execFileSync('promtool', ['check', 'config', join(DOCKER, 'prometheus/prometheus.yml')]);
    // every auth replica, through the service's DNS name, on its AUTH_METRICS_PORT
    expect(authJob.dns_sd_configs).toEqual([
      expect.objectContaining({
        names: ['auth-service'],
        type: 'A',
        port: validateAuthServiceEnv(authEnv('auth-service')).metricsPort,
      }),
    ]);
  });

  it("provisions a dashboard whose every metric exists in the app's real /metrics", () => {
    const dashboard = JSON.parse(
      readFileSync(join(DOCKER, 'grafana/dashboards/user-service.json'), 'utf8'),
    ) as {
      panels: { title: string; targets: { expr: string; datasource: { uid: string } }[] }[];
    };
    const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join(' | ');
    for (const topic of ['duplicate rate', 'dedup ratio', 'connection switches', 'retry success']) {
      expect(titles).toContain(topic);
    }
    const datasources = readFileSync(
      join(DOCKER, 'grafana/provisioning/datasources/prometheus.yml'),
      'utf8',
    );
    const names = metricNames(exposition);
    const family = (m: string): string =>
      names.has(m) ? m : m.replace(/_(bucket|count|sum)$/, '');
    const used = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => promqlMetrics(t.expr)));
    expect(used).toEqual(
      expect.arrayContaining([
        'kafka_event_deduplicated_total',
        'kafka_events_processed_total',
        'grpc_connection_switched_total',
        'grpc_fallback_retry_total',
        'grpc_pool_requests_total',
      ]),
    );
    expect(used.filter((m) => !names.has(family(m)))).toEqual([]);
    for (const target of dashboard.panels.flatMap((p) => p.targets)) {
      expect(datasources).toContain(`uid: ${target.datasource.uid}`);
    }
  });

  it('keeps node_modules, .cache and dist out of the build context, and builds both apps', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.cache', 'dist']));
    const dockerfile = readFileSync(join(DOCKER, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/AS auth-service/);
    expect(dockerfile).toMatch(/AS user-service/);
    expect(services['auth-service'].build?.target).toBe('auth-service');
    expect(services['user-service-1'].build?.target).toBe('user-service');
  });
});
