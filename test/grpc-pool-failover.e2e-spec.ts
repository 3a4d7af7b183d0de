import { status } from '@grpc/grpc-js';
import type { TestingModule } from '@nestjs/testing';
import type { GrpcPool } from '@nest-resilience/grpc-pool';
import type { EchoClient } from '../scripts/support/grpc-backend';
import { EchoProcess } from '../scripts/support/echo-process';
import { startPool } from './support/grpc-pool-app';
import { metricValue } from './support/metrics';
import { freePort } from '../scripts/support/free-port';
import { Haproxy } from '../scripts/support/haproxy';
import { GRPC_POOL_METRICS } from '@nest-resilience/grpc-pool';

interface LoadResult {
  ok: number;
  failed: number;
  errors: Map<string, number>;
  /** Successful calls per backend name. */
  byServer: Map<string, number>;
}

/**
 * A bounded load: `workers` concurrent callers, each calling until `durationMs` passes or `maxCalls`
 * calls were made in all; every loop stops by itself.
 */
async function load(
  echo: EchoClient,
  durationMs: number,
  workers = 8,
  maxCalls = 5_000,
): Promise<LoadResult> {
  const result: LoadResult = { ok: 0, failed: 0, errors: new Map(), byServer: new Map() };
  const end = Date.now() + durationMs;
  let calls = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (Date.now() < end && calls < maxCalls) {
        calls++;
        try {
          const reply = await echo.ping({ id: `w${w}-${calls}` }, { deadline: 2_000 });
          result.ok++;
          result.byServer.set(reply.server, (result.byServer.get(reply.server) ?? 0) + 1);
        } catch (error) {
          result.failed++;
          const key = `${(error as { code?: number }).code}: ${(error as Error).message}`;
          result.errors.set(key, (result.errors.get(key) ?? 0) + 1);
        }
      }
    }),
  );
  return result;
}

describe('grpc-pool failover behind a real L4 balancer (haproxy, 3 grpc-js backend processes)', () => {
  const backends: EchoProcess[] = [];
  let haproxy: Haproxy;
  let app: TestingModule;
  let pool: GrpcPool;
  let echo: EchoClient;

  beforeAll(async () => {
    for (const name of ['b1', 'b2', 'b3']) {
      const backend = new EchoProcess(name);
      await backend.start();
      backends.push(backend);
    }
    haproxy = new Haproxy(
      await freePort(),
      backends.map((b) => b.address),
    );
    await haproxy.start();
    ({ pool, app } = await startPool({
      name: 'users',
      url: haproxy.address,
      size: 3,
      breaker: { ejectionMs: 200 },
    }));
    echo = pool.getService<EchoClient>('EchoService');
  });

  afterAll(async () => {
    await app?.close();
    await haproxy?.stop();
    await Promise.all(backends.map((b) => b.kill()));
  });

  it('spreads its connections over the backends behind the one address', async () => {
    const steady = await load(echo, 500);
    expect(steady.failed).toBe(0);
    expect([...steady.byServer.keys()].sort()).toEqual(['b1', 'b2', 'b3']);
  });

  it('keeps every call succeeding when 1 of 3 backends dies under load', async () => {
    const running = load(echo, 1_500);
    await new Promise((r) => setTimeout(r, 300));
    await backends[0].kill();
    const result = await running;
    expect(Object.fromEntries(result.errors)).toEqual({});
    expect(result.ok).toBeGreaterThan(100);
  });

  it('keeps every call succeeding when 2 of 3 backends are dead', async () => {
    const running = load(echo, 1_500);
    await new Promise((r) => setTimeout(r, 300));
    await backends[1].kill();
    const result = await running;
    expect(Object.fromEntries(result.errors)).toEqual({});
    expect(result.byServer.get('b3')).toBeGreaterThan(0);
  });

  it('fails fast with UNAVAILABLE naming the pool when every backend is dead', async () => {
    await backends[2].kill();
    // until every circuit is open, calls still try the network
    await load(echo, 500);
    const failures: Error[] = [];
    for (let i = 0; i < 50; i++) {
      await echo.ping({ id: `down-${i}` }).catch((e: Error) => failures.push(e));
    }
    expect(failures).toHaveLength(50);
    expect(
      failures.every((e) => (e as unknown as { code: number }).code === status.UNAVAILABLE),
    ).toBe(true);
    const fast = failures.filter((e) =>
      e.message.includes('grpc-pool "users": all 3 connections are down'),
    );
    expect(fast.length).toBeGreaterThanOrEqual(45); // a few probes still reach the balancer
    expect(pool.healthReport().healthy).toBe(0);
  });

  it('recovers by itself when the backends come back, without restarting the app', async () => {
    for (const backend of backends) await backend.start(); // same ports
    let recovered = false;
    for (let i = 0; i < 100 && !recovered; i++) {
      recovered = await echo.ping({ id: `back-${i}` }).then(
        () => true,
        () => false,
      );
      if (!recovered) await new Promise((r) => setTimeout(r, 100));
    }
    expect(recovered).toBe(true);
    const after = await load(echo, 1_000);
    expect(after.failed).toBe(0);
    expect(await metricValue(GRPC_POOL_METRICS.healthyConnections, { pool: 'users' })).toBe(3);
  });
});
