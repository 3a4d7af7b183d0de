import type { TestingModule } from '@nestjs/testing';
import { register } from 'prom-client';
import { GRPC_POOL_METRICS, type GrpcPool, type GrpcPoolOptions } from '@nest-resilience/grpc-pool';
import { ServerCredentials } from '@grpc/grpc-js';
import { callsByServer } from './support/calls-by-server';
import { Dnsmasq } from '../scripts/support/dnsmasq';
import { EchoProcess } from '../scripts/support/echo-process';
import { EchoBackend, type EchoClient } from '../scripts/support/grpc-backend';
import { startPool } from './support/grpc-pool-app';
import { freePort } from '../scripts/support/free-port';
import { metricValue } from './support/metrics';
import { families, promtoolCheck } from './support/promtool';
import { makeTestPki } from './support/tls';
import { sleep, waitFor } from './support/wait';

/**
 * Discovery against a real DNS server (dnsmasq on loopback) and real gRPC server processes bound
 * to 127.0.0.2…127.0.0.8 on one port, each answering with its own name.
 */
describe('grpc-pool DNS discovery (dnsmasq, one grpc-js server process per loopback address)', () => {
  const dns = new Dnsmasq();
  const backends = new Map<string, EchoProcess>(); // by ip
  let port = 0;
  let app: TestingModule | undefined;

  const ip = (n: number) => `127.0.0.${n}`;
  const nameOf = (n: number) => `b${n}`;
  const hosts = (name: string, ...ns: number[]) => ({ [name]: ns.map(ip) });

  async function discoveringPool(
    options: Partial<GrpcPoolOptions> & { name: string; host: string },
  ): Promise<{ pool: GrpcPool; echo: EchoClient }> {
    const { host, discovery, ...rest } = options;
    let pool: GrpcPool;
    ({ pool, app } = await startPool({
      url: `dns:///${host}:${port}`,
      balancer: { policy: 'round-robin' },
      ...rest,
      discovery: {
        servers: [dns.server],
        refreshIntervalMs: 300,
        minRefreshIntervalMs: 100,
        warmupTimeoutMs: 3_000,
        drainTimeoutMs: 10_000,
        ...discovery,
      },
    }));
    return { pool, echo: pool.getService<EchoClient>('EchoService') };
  }

  beforeAll(async () => {
    port = await freePort();
    await dns.start({});
    await Promise.all(
      [2, 3, 4, 5, 6, 7, 8].map(async (n) => {
        const b = new EchoProcess(nameOf(n), port, ip(n), n >= 7 ? 8 : undefined);
        await b.start();
        backends.set(ip(n), b);
      }),
    );
  }, 60_000);

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  afterAll(async () => {
    await Promise.all([...backends.values()].map((b) => b.kill()));
    await dns.close();
  });

  it("spreads calls over every address of the name and reports each connection's address", async () => {
    await dns.setHosts(hosts('spread.test', 2, 3, 4));
    const { pool, echo } = await discoveringPool({ name: 'spread', host: 'spread.test', size: 1 });
    const byServer = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      const reply = await echo.ping({ id: `s${i}` });
      byServer.set(reply.server, (byServer.get(reply.server) ?? 0) + 1);
    }
    expect(Object.fromEntries(byServer)).toEqual({ b2: 20, b3: 20, b4: 20 });
    const report = pool.healthReport();
    expect(report.connections.map((c) => c.address).sort()).toEqual(
      [2, 3, 4].map((n) => `${ip(n)}:${port}`),
    );
    expect(report.endpoints?.map((e) => e.state)).toEqual(['active', 'active', 'active']);
    expect(await metricValue(GRPC_POOL_METRICS.endpoints, { pool: 'spread' })).toBe(3);
    expect(
      await metricValue(GRPC_POOL_METRICS.resolutions, { pool: 'spread', result: 'ok' }),
    ).toBeGreaterThan(0);
    // Bounded labels: no metric series names an address.
    const exposition = families(await register.metrics(), ['grpc_']);
    expect(exposition).not.toContain('127.0.0.');
    expect(promtoolCheck(exposition)).toBe('');
  });

  it('sends calls to a new address once a refresh finds it', async () => {
    await dns.setHosts(hosts('grow.test', 2, 3));
    const { pool, echo } = await discoveringPool({
      name: 'grow',
      host: 'grow.test',
      size: 1,
      healthCheck: { intervalMs: 1_000 }, // a new address must answer SERVING before its first call
    });
    let newSeenAt = 0;
    const running = callsByServer(echo, 8_000, {
      workers: 4,
      stop: () => newSeenAt > 0 && Date.now() > newSeenAt + 1_000,
      onReply: (server) => {
        if (server === 'b4' && newSeenAt === 0) newSeenAt = Date.now();
      },
    });
    await sleep(500);
    const added = Date.now();
    await dns.setHosts(hosts('grow.test', 2, 3, 4));
    const load = await running;
    expect(load.failed).toBe(0);
    expect(newSeenAt).toBeGreaterThan(0);
    // refreshIntervalMs (300 ms) + the 1 s TTL of the record + warm-up, well inside 3 s.
    expect(newSeenAt - added).toBeLessThan(3_000);
    expect(load.byServer.get('b4')).toBeGreaterThan(10);
    expect(pool.healthReport().connections.map((c) => c.address)).toContain(`${ip(4)}:${port}`);
  });

  it('drains a removed address: no new calls, its calls in flight finish there, then SIGTERM', async () => {
    await dns.setHosts(hosts('drain.test', 5, 6));
    const { pool, echo } = await discoveringPool({ name: 'drain', host: 'drain.test', size: 1 });
    // Four slow calls, round-robin: two are in flight on b6.
    const slow = Array.from({ length: 4 }, (_, i) =>
      echo.ping({ id: `slow${i}`, delayMs: 2_500 }, { deadline: 10_000 }),
    );
    await sleep(100);
    await dns.setHosts(hosts('drain.test', 5)); // the address leaves DNS first…
    const gone = () => !pool.healthReport().connections.some((c) => c.address?.startsWith(ip(6)));
    expect(await waitFor(gone, 1_500)).toBe(true);
    expect(pool.healthReport().draining).toBe(1);
    // …no new call goes there…
    const after = await callsByServer(echo, 400, { workers: 4 });
    expect(after.failed).toBe(0);
    expect([...after.byServer.keys()]).toEqual(['b5']);
    // …the calls already there finish there (first attempt), then the connection closes…
    const replies = await Promise.all(slow);
    expect(replies.map((r) => `${r.server}#${r.attempt}`).sort()).toEqual([
      'b5#1',
      'b5#1',
      'b6#1',
      'b6#1',
    ]);
    expect(await waitFor(() => pool.healthReport().draining === 0, 1_000)).toBe(true);
    // …and the pod's graceful shutdown (SIGTERM, GOAWAY) costs no call.
    const b6 = backends.get(ip(6))!;
    const during = callsByServer(echo, 1_000, { workers: 4 });
    await b6.terminate();
    expect((await during).failed).toBe(0);
    await b6.start(); // back for the next tests
  });

  it('keeps the last known addresses through a DNS outage and an NXDOMAIN answer: every call succeeds', async () => {
    await dns.setHosts(hosts('outage.test', 2, 3));
    const { pool, echo } = await discoveringPool({ name: 'outage', host: 'outage.test', size: 1 });
    await dns.stop();
    const outage = await callsByServer(echo, 2_000, { workers: 4 });
    await dns.start({}); // back, but the name is gone (a headless service without ready pods)
    const nxdomain = await callsByServer(echo, 1_500, { workers: 4 });
    for (const load of [outage, nxdomain]) {
      expect(load.failed).toBe(0);
      expect([...load.byServer.keys()].sort()).toEqual(['b2', 'b3']);
    }
    expect(pool.healthReport().endpoints).toHaveLength(2);
    expect(
      await metricValue(GRPC_POOL_METRICS.resolutions, { pool: 'outage', result: 'error' }),
    ).toBeGreaterThan(0);
    expect(
      await metricValue(GRPC_POOL_METRICS.resolutions, { pool: 'outage', result: 'not_found' }),
    ).toBeGreaterThan(0);
  });

  it('dials each address but keeps the name as :authority and TLS server name', async () => {
    const pki = makeTestPki(['tls.test']);
    const server = new EchoBackend(
      'tls9',
      ServerCredentials.createSsl(
        null,
        [{ private_key: pki.serverKey, cert_chain: pki.serverCert }],
        false,
      ),
      port,
      ip(9),
    );
    await server.start();
    try {
      await dns.setHosts(hosts('tls.test', 9));
      const { pool, echo } = await discoveringPool({
        name: 'tls',
        host: 'tls.test',
        size: 1,
        credentials: { tls: { ca: pki.ca } },
      });
      expect((await echo.ping({ id: 'tls' })).server).toBe('tls9');
      expect([...server.authorities]).toEqual([`tls.test:${port}`]);
      expect(pool.healthReport().connections[0].address).toBe(`${ip(9)}:${port}`);
    } finally {
      server.kill();
    }
  });

  it('fails the bootstrap of a name that resolves to nothing, after waiting, naming pool, name and error', async () => {
    await dns.setHosts({});
    const started = Date.now();
    await expect(
      discoveringPool({
        name: 'missing',
        host: 'missing.test',
        discovery: { startupTimeoutMs: 1_000 },
      }),
    ).rejects.toThrow(
      new RegExp(
        `GrpcPool "missing": "missing.test:${port}" resolved to no address within \\d+ ms.*ENOTFOUND`,
      ),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
  });

  it('grows connections under load past the stream limit, shrinks back to min after it, no call failed', async () => {
    await dns.setHosts(hosts('resize.test', 7, 8)); // servers with grpc.max_concurrent_streams 8
    const { pool, echo } = await discoveringPool({
      name: 'resize',
      host: 'resize.test',
      balancer: { policy: 'peak-ewma' },
      size: { min: 1, max: 6, maxConcurrentStreams: 8, intervalMs: 300, shrinkAfterMs: 1_000 },
    });
    const perAddress = () => pool.healthReport().endpoints!.map((e) => e.connections);
    expect(perAddress()).toEqual([1, 1]);
    let peak = 0;
    const load = await callsByServer(echo, 4_000, {
      workers: 48,
      delayMs: 100,
      onReply: () => (peak = Math.max(peak, pool.size)),
    });
    expect(load.failed).toBe(0);
    expect(peak).toBeGreaterThanOrEqual(6); // 48 calls / 6 per connection = 8 connections wanted
    expect(
      await metricValue(GRPC_POOL_METRICS.resizes, { pool: 'resize', direction: 'up' }),
    ).toBeGreaterThan(0);
    expect(await waitFor(() => perAddress().every((n) => n === 1), 8_000)).toBe(true);
    expect(
      await metricValue(GRPC_POOL_METRICS.resizes, { pool: 'resize', direction: 'down' }),
    ).toBeGreaterThan(0);
  });

  it('sizes a static url to the load as well (size: { min, max } without discovery)', async () => {
    const b7 = backends.get(ip(7))!; // grpc.max_concurrent_streams 8
    let pool: GrpcPool;
    ({ pool, app } = await startPool({
      name: 'static-resize',
      url: b7.address,
      size: { min: 1, max: 4, maxConcurrentStreams: 8, intervalMs: 300, shrinkAfterMs: 600 },
    }));
    const echo = pool.getService<EchoClient>('EchoService');
    expect(pool.size).toBe(1);
    let peak = 0;
    const load = await callsByServer(echo, 2_500, {
      workers: 24,
      delayMs: 100,
      onReply: () => (peak = Math.max(peak, pool.size)),
    });
    expect(load.failed).toBe(0);
    expect(peak).toBeGreaterThanOrEqual(3); // 24 calls / 6 per connection
    expect(pool.healthReport().endpoints).toEqual([
      { address: b7.address, state: 'active', connections: pool.size },
    ]);
    expect(await waitFor(() => pool.size === 1, 6_000)).toBe(true);
  });
});
