import { CDC_TOPIC } from './support/user-service-env'; // first: sets CDC_TOPIC
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { register } from 'prom-client';
import { parseAllDocuments } from 'yaml';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import {
  AUTH_SERVICE_ENV_VARS,
  validateAuthServiceEnv,
} from '../apps/auth-service/src/auth-service.env';
import {
  USER_SERVICE_ENV_VARS,
  validateUserServiceEnv,
} from '../apps/user-service/src/config/user-service.env';
import { createUserServiceApp } from '../apps/user-service/src/user-service.app';
import { KAFKA_BROKER } from './support/kcat';
import { PrivateDatabase } from './support/user-service-postgres';
import { portBlock } from './support/user-service-processes';

const K8S = join(__dirname, '../docker/k8s');

/** The Kubernetes API models of the kinds the manifests use: each validates against its schema. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  [key: string]: unknown;
}

interface Kustomization {
  namespace: string;
  resources: string[];
  images: { name: string; newTag: string }[];
}

function yamlFile(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(join(K8S, file), 'utf8')).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
    return doc.toJS() as Manifest;
  });
}

/** Milliseconds from the kubelet's HTTP probe settings. */
const probeTimeoutMs = (probe: IProbe): number => (probe.timeoutSeconds ?? 1) * 1000;

describe('docker/k8s: manifests valid against the Kubernetes API schema and in agreement with the apps', () => {
  const kustomization = yamlFile('kustomization.yaml')[0] as unknown as Kustomization;
  const manifests = kustomization.resources.flatMap((file) =>
    yamlFile(file).map((m) => ({ file, ...m })),
  );
  const find = <T>(kind: string, name: string): T => {
    const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
    if (!found) throw new Error(`no ${kind} ${name} in docker/k8s`);
    return found as unknown as T;
  };
  const userDeployment = find<Deployment>('Deployment', 'user-service');
  const authDeployment = find<Deployment>('Deployment', 'auth-service');
  const container = (d: Deployment): IContainer => d.spec!.template.spec!.containers[0];
  const user = container(userDeployment);
  const auth = container(authDeployment);
  /** A container's environment from its envFrom ConfigMaps/Secrets and env values. */
  const envOf = (c: IContainer): Record<string, string> => {
    const env: Record<string, string> = {};
    for (const from of c.envFrom ?? []) {
      if (from.configMapRef)
        Object.assign(env, find<ConfigMap>('ConfigMap', from.configMapRef.name!).data);
      if (from.secretRef)
        Object.assign(env, find<Secret>('Secret', from.secretRef.name!).stringData);
    }
    for (const e of c.env ?? []) env[e.name] = e.value ?? `<${e.valueFrom ? 'from field' : ''}>`;
    return env;
  };
  const containerPort = (c: IContainer, name: string | number): number =>
    typeof name === 'number' ? name : c.ports!.find((p) => p.name === name)!.containerPort;
  /** HTTP status of each probe path on the real app (404 = not served). */
  const served: Record<string, number> = {};
  let servedPort = 0;

  beforeAll(async () => {
    // the real app with the manifests' variables (addresses moved to loopback): what it serves
    register.clear();
    const database = new PrivateDatabase();
    await database.create();
    const [httpPort, grpcPort] = portBlock(2);
    servedPort = httpPort;
    const env = {
      ...envOf(user),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      GRPC_URL: `127.0.0.1:${grpcPort}`,
      KAFKA_BROKERS: KAFKA_BROKER,
      KAFKA_GROUP_ID: `${CDC_TOPIC}-g`,
      CDC_TOPIC,
      DATABASE_URL: database.url,
      AUTH_GRPC_URLS: '127.0.0.1:1',
    };
    const app = await createUserServiceApp({ logger: ['error'], env });
    try {
      await app.start();
      for (const probe of [user.startupProbe, user.livenessProbe, user.readinessProbe]) {
        const path = probe!.httpGet!.path!;
        served[path] = (await fetch(`http://127.0.0.1:${httpPort}${path}`)).status;
      }
    } finally {
      await app.app.close();
      await database.drop();
    }
  }, 120_000);

  it('lists every manifest file in kustomization.yaml, all in one namespace', () => {
    const files = readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    expect(find<Namespace>('Namespace', kustomization.namespace).metadata?.name).toBe(
      kustomization.namespace,
    );
  });

  it('validates every document against the Kubernetes API schema (kubernetes-models)', () => {
    const problems: string[] = [];
    for (const { file, ...manifest } of manifests) {
      const Model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
      if (!Model) {
        problems.push(`${file}: no model for ${manifest.apiVersion} ${manifest.kind}`);
        continue;
      }
      try {
        new Model(manifest as never).validate();
      } catch (error) {
        problems.push(
          `${file} ${manifest.kind}/${manifest.metadata.name}: ${(error as Error).message}`,
        );
      }
    }
    expect(problems).toEqual([]);
    expect(manifests.length).toBeGreaterThanOrEqual(10);
  });

  it('runs 2 user-service replicas with probes on paths and the port the app serves: /health/live, /health/ready', () => {
    expect(userDeployment.spec!.replicas).toBe(2);
    const config = validateUserServiceEnv(envOf(user));
    const probes = {
      startup: user.startupProbe!.httpGet!,
      liveness: user.livenessProbe!.httpGet!,
      readiness: user.readinessProbe!.httpGet!,
    };
    expect(Object.values(probes).map((p) => p.path)).toEqual([
      '/health/live',
      '/health/live',
      '/health/ready',
    ]);
    for (const probe of Object.values(probes))
      expect(containerPort(user, probe.port as string)).toBe(config.httpPort);
    expect(served).toEqual({ '/health/live': 200, '/health/ready': expect.any(Number) });
    expect([200, 503]).toContain(served['/health/ready']); // served (503 until the group is stable)
    expect(servedPort).toBeGreaterThan(0);
    // readiness has to wait for its slowest check (the consumer group, 2 s)
    expect(probeTimeoutMs(user.readinessProbe!)).toBeGreaterThanOrEqual(3_000);
    expect(containerPort(user, 'grpc')).toBe(Number(config.grpcUrl.split(':')[1]));
  });

  it('gives SIGTERM a grace period covering preStop and the measured shutdown', () => {
    const spec = userDeployment.spec!.template.spec!;
    const preStop = Number(user.lifecycle!.preStop!.exec!.command![1]);
    expect(user.lifecycle!.preStop!.exec!.command![0]).toBe('sleep');
    // shutdown measured at under 1 s mid-stream; the rest is margin for a slow final commit
    expect(spec.terminationGracePeriodSeconds!).toBeGreaterThanOrEqual(preStop + 10);
  });

  it('configures user-service with variables it knows and accepts: PostgreSQL as the shared dedup store, Kafka external', () => {
    const env = envOf(user);
    expect(Object.keys(env).filter((k) => !USER_SERVICE_ENV_VARS.includes(k))).toEqual([]);
    const config = validateUserServiceEnv(env);
    expect(config.dedupStore).toBe('postgres');
    const db = new URL(config.databaseUrl!);
    const postgres = find<Service>('Service', 'postgres');
    expect([db.hostname, Number(db.port)]).toEqual(['postgres', postgres.spec!.ports![0].port]);
    const pg = find<Secret>('Secret', 'postgres').stringData!;
    expect([db.username, db.password, db.pathname]).toEqual([
      pg.POSTGRES_USER,
      pg.POSTGRES_PASSWORD,
      `/${pg.POSTGRES_DB}`,
    ]);
    expect(config.kafkaBrokers).toHaveLength(1);
    expect(manifests.some((m) => /kafka/i.test(m.metadata.name))).toBe(false);
  });

  it('points the auth pool at the headless auth-service Service by dns:///name:port', () => {
    const headless = find<Service>('Service', 'auth-service-headless');
    expect(headless.spec!.clusterIP).toBe('None');
    const podLabels = authDeployment.spec!.template.metadata!.labels!;
    expect(podLabels).toMatchObject(headless.spec!.selector!);
    const port = headless.spec!.ports![0];
    expect(containerPort(auth, port.targetPort as string)).toBe(port.port);
    const authConfig = validateAuthServiceEnv(envOf(auth));
    expect(Number(authConfig.grpcUrl.split(':')[1])).toBe(port.port);
    const userConfig = validateUserServiceEnv(envOf(user));
    expect(userConfig.authUrls).toEqual([
      `dns:///auth-service-headless.${kustomization.namespace}.svc.cluster.local:${port.port}`,
    ]);
    expect(userConfig.authDnsServers).toBeUndefined(); // the pod's resolver: CoreDNS
    expect(Object.keys(envOf(auth)).filter((k) => !AUTH_SERVICE_ENV_VARS.includes(k))).toEqual([]);
    expect(auth.readinessProbe!.grpc!.port).toBe(port.port); // grpc.health.v1, served by auth-service
  });

  it("keeps a terminating auth pod serving until the pool's next resolution has dropped it", () => {
    const { authDnsRefreshMs } = validateUserServiceEnv(envOf(user));
    const coreDnsTtlSeconds = 5; // CoreDNS kubernetes plugin default, headless records included
    expect(auth.lifecycle!.preStop!.exec!.command![0]).toBe('sleep');
    const preStop = Number(auth.lifecycle!.preStop!.exec!.command![1]);
    expect(preStop * 1000).toBeGreaterThan(authDnsRefreshMs + coreDnsTtlSeconds * 1000);
    // then SIGTERM: the graceful shutdown needs time left in the grace period
    expect(authDeployment.spec!.template.spec!.terminationGracePeriodSeconds!).toBeGreaterThan(
      preStop + 5,
    );
  });

  it('selects each Service and the PodDisruptionBudget onto pods that exist, on named ports', () => {
    const pods = manifests
      .filter((m) => m.kind === 'Deployment' || m.kind === 'StatefulSet')
      .map((m) => (m as unknown as Deployment).spec!.template);
    for (const kind of ['Service', 'PodDisruptionBudget']) {
      for (const m of manifests.filter((x) => x.kind === kind)) {
        const spec = (m as unknown as { spec: { selector: Record<string, unknown> } }).spec;
        const selector = (kind === 'Service' ? spec.selector : spec.selector.matchLabels) as Record<
          string,
          string
        >;
        const target = pods.find((p) =>
          Object.entries(selector).every(([k, v]) => p.metadata!.labels![k] === v),
        );
        expect({ name: m.metadata.name, found: !!target }).toEqual({
          name: m.metadata.name,
          found: true,
        });
        if (kind === 'Service') {
          for (const port of (m as unknown as Service).spec!.ports!) {
            const ports = target!.spec!.containers.flatMap((c) => c.ports ?? []);
            expect(ports.map((p) => p.name)).toContain(port.targetPort);
          }
        }
      }
    }
    const images = [user.image, auth.image];
    expect(kustomization.images.map((i) => i.name).sort()).toEqual([...images].sort());
  });
});
