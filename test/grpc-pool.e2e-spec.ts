import {
  credentials,
  loadPackageDefinition,
  status,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { TestingModule } from '@nestjs/testing';
import {
  GRPC_POOL_METRICS,
  GrpcPoolCallError,
  GrpcPoolMethodNotFoundError,
  GrpcPoolServiceNotFoundError,
  UsePooledGrpc,
  type GrpcPool,
} from '@nest-resilience/grpc-pool';
import { ECHO_PROTO, EchoBackend, type EchoClient } from '../scripts/support/grpc-backend';
import { startPool } from './support/grpc-pool-app';
import { freePort } from '../scripts/support/free-port';
import { metricValue } from './support/metrics';
import { families, promtoolCheck } from './support/promtool';
import { register } from 'prom-client';

describe('grpc-pool against real grpc-js servers on loopback', () => {
  const backends: EchoBackend[] = [];
  let app: TestingModule | undefined;

  async function backend(name: string): Promise<EchoBackend> {
    const b = new EchoBackend(name);
    await b.start();
    backends.push(b);
    return b;
  }

  afterEach(async () => {
    await app?.close();
    app = undefined;
    backends.splice(0).forEach((b) => b.kill());
  });

  it('opens really distinct connections (the server sees one peer per pooled connection)', async () => {
    const server = await backend('b1');
    let pool: GrpcPool;
    ({ pool, app } = await startPool({
      name: 'distinct',
      url: server.address,
      size: 4,
      balancer: { policy: 'round-robin' },
    }));
    const echo = pool.getService<EchoClient>('EchoService');
    for (let i = 0; i < 40; i++) await echo.ping({ id: `c${i}` });
    expect(server.peers.size).toBe(4);
    // round-robin: every connection carried a quarter of the calls
    expect([...server.peers.values()]).toEqual([10, 10, 10, 10]);

    // The trap this avoids: four plain grpc-js clients with equal options share one connection.
    const def = loadPackageDefinition(loadSync(ECHO_PROTO)) as unknown as {
      echo: { v1: { EchoService: ServiceClientConstructor } };
    };
    server.peers.clear();
    const naive = Array.from(
      { length: 4 },
      () => new def.echo.v1.EchoService(server.address, credentials.createInsecure()),
    );
    for (const client of naive) {
      await new Promise((resolve, reject) =>
        (client as unknown as { ping: Function }).ping({ id: 'naive' }, (e: Error | null) =>
          e ? reject(e) : resolve(null),
        ),
      );
    }
    naive.forEach((c) => c.close());
    expect(server.peers.size).toBe(1);
  });

  it('retries UNAVAILABLE on another connection and counts the retry and the switch', async () => {
    const server = await backend('b1');
    let pool: GrpcPool;
    ({ pool, app } = await startPool({
      name: 'retry',
      url: server.address,
      size: 3,
      breaker: { failureThreshold: 5 },
    }));
    const echo = pool.getService<EchoClient>('EchoService');
    const reply = await echo.ping({ id: 'flaky', failCode: status.UNAVAILABLE, failAttempts: 1 });
    expect(reply.attempt).toBe(2);
    expect(server.peers.size).toBe(2); // the retry went to a different connection
    expect(await metricValue(GRPC_POOL_METRICS.fallbackRetry, { pool: 'retry' })).toBe(1);
    expect(await metricValue(GRPC_POOL_METRICS.connectionSwitched, { pool: 'retry' })).toBe(1);
    expect(await metricValue(GRPC_POOL_METRICS.requests, { pool: 'retry', code: 'OK' })).toBe(1);
    const exposition = families(await register.metrics(), ['grpc_']);
    expect(exposition).toContain('# HELP grpc_connection_switched_total');
    expect(promtoolCheck(exposition)).toBe('');
  });

  it('does not retry a non-retryable code', async () => {
    const server = await backend('b1');
    let pool: GrpcPool;
    ({ pool, app } = await startPool({ name: 'noretry', url: server.address, size: 3 }));
    const echo = pool.getService<EchoClient>('EchoService');
    await expect(echo.ping({ id: 'bad', failCode: status.INVALID_ARGUMENT })).rejects.toMatchObject(
      {
        code: status.INVALID_ARGUMENT,
      },
    );
    expect(server.attempts.get('bad')).toBe(1);
    expect(pool.healthReport().healthy).toBe(3); // an application error does not eject a connection
  });

  it('retries DEADLINE_EXCEEDED of an attempt only for a method marked idempotent', async () => {
    const server = await backend('b1');
    let pool: GrpcPool;
    ({ pool, app } = await startPool({
      name: 'idem',
      url: server.address,
      size: 3,
      timeoutMs: 2_000,
      retry: { attemptTimeoutMs: 150 },
    }));
    const echo = pool.getService<EchoClient>('EchoService');
    class UsersGateway {
      @UsePooledGrpc('idem', { idempotent: true })
      getUser(id: string) {
        return echo.ping({ id, delayMs: 1_000, delayAttempts: 1 });
      }
      createUser(id: string) {
        return echo.ping({ id, delayMs: 1_000, delayAttempts: 1 });
      }
    }
    const gateway = new UsersGateway();
    await expect(gateway.createUser('create-1')).rejects.toMatchObject({
      code: status.DEADLINE_EXCEEDED,
    });
    expect(server.attempts.get('create-1')).toBe(1);
    const user = await gateway.getUser('get-1');
    expect(user.attempt).toBe(2);
  });

  it('never goes past the caller deadline, which covers every attempt', async () => {
    const server = await backend('b1');
    let pool: GrpcPool;
    ({ pool, app } = await startPool({
      name: 'deadline',
      url: server.address,
      size: 3,
      breaker: { failureThreshold: 100 },
      retry: { maxAttempts: 10, initialBackoffMs: 40, maxBackoffMs: 40 },
    }));
    const echo = pool.getService<EchoClient>('EchoService');
    // slow server: the single attempt uses the whole deadline, no retry after it
    await expect(
      echo.ping({ id: 'slow', delayMs: 500 }, { deadline: 100, idempotent: true }),
    ).rejects.toMatchObject({
      code: status.DEADLINE_EXCEEDED,
    });
    expect(server.attempts.get('slow')).toBe(1);
    // failing server: a backoff that would end past the deadline is not taken, so the call gives
    // up before its deadline instead of sleeping past it (decorrelated jitter: 0-40 ms each)
    const started = performance.now();
    await expect(
      echo.ping({ id: 'down', failCode: status.UNAVAILABLE }, { deadline: 60 }),
    ).rejects.toMatchObject({
      code: status.UNAVAILABLE,
    });
    expect(performance.now() - started).toBeLessThan(95); // a 40 ms backoff past 60 ms would end later
    expect(server.attempts.get('down')).toBeLessThan(10); // maxAttempts would allow 10
  });

  it('stops retrying when the retry budget is spent', async () => {
    const server = await backend('b1');
    let pool: GrpcPool;
    ({ pool, app } = await startPool({
      name: 'budget',
      url: server.address,
      size: 3,
      breaker: { failureThreshold: 1_000 },
      retry: {
        initialBackoffMs: 0,
        maxBackoffMs: 0,
        budget: { ratio: 0.1, minPerSecond: 0, windowMs: 10_000 },
      },
    }));
    const echo = pool.getService<EchoClient>('EchoService');
    for (let i = 0; i < 50; i++) {
      await expect(
        echo.ping({ id: `storm-${i}`, failCode: status.UNAVAILABLE }),
      ).rejects.toMatchObject({
        code: status.UNAVAILABLE,
      });
    }
    // 50 requests at ratio 0.1: at most 5 retries in all, instead of 100 without a budget
    expect(server.calls).toBeLessThanOrEqual(55);
    expect(server.calls).toBeGreaterThan(50);
    expect(
      await metricValue(GRPC_POOL_METRICS.budgetExhausted, { pool: 'budget' }),
    ).toBeGreaterThanOrEqual(45);
  });

  it('ejects a connection whose backend fails its health check, and routes around it', async () => {
    const good = await backend('good');
    const sick = await backend('sick');
    sick.serving = 'NOT_SERVING';
    let pool: GrpcPool;
    ({ pool, app } = await startPool({
      name: 'health',
      urls: [good.address, sick.address],
      size: 2,
      healthCheck: { intervalMs: 50, timeoutMs: 500 },
    }));
    const ejected = await waitUntil(() => pool.healthReport().healthy === 2);
    expect(ejected).toBe(true);
    const echo = pool.getService<EchoClient>('EchoService');
    const servers = new Set<string>();
    for (let i = 0; i < 20; i++) servers.add((await echo.ping({ id: `h${i}` })).server);
    expect([...servers]).toEqual(['good']);
    sick.serving = 'SERVING';
    expect(await waitUntil(() => pool.healthReport().healthy === 4)).toBe(true);
  });

  it('callWithRetry() hands each attempt a client on another connection', async () => {
    const server = await backend('b1');
    let pool: GrpcPool;
    ({ pool, app } = await startPool({
      name: 'raw',
      url: server.address,
      size: 3,
      breaker: { failureThreshold: 5 },
    }));
    const seen: number[] = [];
    const reply = await pool.callWithRetry(({ client, deadline, connection }) => {
      seen.push(connection);
      const echo = client<{ ping: Function }>('EchoService');
      return new Promise<{ attempt: number }>((resolve, reject) =>
        echo.ping.call(
          echo,
          { id: 'raw', failCode: status.UNAVAILABLE, failAttempts: 2 },
          { deadline },
          (e: Error | null, r: { attempt: number }) => (e ? reject(e) : resolve(r)),
        ),
      );
    });
    expect(reply.attempt).toBe(3);
    expect(new Set(seen).size).toBe(3);
  });

  it('recycles connections past maxConnectionAgeMs without failing a call, and closes every channel at shutdown', async () => {
    const server = await backend('b1');
    let pool: GrpcPool;
    ({ pool, app } = await startPool({
      name: 'recycle',
      url: server.address,
      size: 2,
      maxConnectionAgeMs: 1_000,
    }));
    const echo = pool.getService<EchoClient>('EchoService');
    const end = Date.now() + 2_600;
    let calls = 0;
    while (Date.now() < end && calls < 10_000) {
      await echo.ping({ id: `r${calls++}` });
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(server.peers.size).toBeGreaterThanOrEqual(4); // both connections were replaced at least once
    await app.close();
    app = undefined;
    expect(pool.healthReport().connections.every((c) => c.connectivity === 'SHUTDOWN')).toBe(true);
  });

  it('gives typed errors for an unknown service or method', async () => {
    const server = await backend('b1');
    let pool: GrpcPool;
    ({ pool, app } = await startPool({ name: 'typed', url: server.address, size: 1 }));
    expect(() => pool.getService('NoSuchService')).toThrow(GrpcPoolServiceNotFoundError);
    const echo = pool.getService<{ pingg(r: object): Promise<unknown> }>('EchoService');
    await expect(echo.pingg({})).rejects.toBeInstanceOf(GrpcPoolMethodNotFoundError);
    await expect(echo.pingg({})).rejects.toThrow('service "EchoService" has no method "pingg"');
  });

  it('passes server-streaming calls through one connection, and offers Observable methods', async () => {
    const server = await backend('b1');
    let pool: GrpcPool;
    ({ pool, app } = await startPool({ name: 'stream', url: server.address, size: 2 }));
    const { firstValueFrom, toArray } = await import('rxjs');
    const observable = pool.getObservableService<{
      count(r: { count: number }): import('rxjs').Observable<{ id: string }>;
      ping(r: { id: string }): import('rxjs').Observable<{ id: string }>;
    }>('EchoService');
    expect(
      (await firstValueFrom(observable.count({ count: 3 }).pipe(toArray()))).map((r) => r.id),
    ).toEqual(['0', '1', '2']);
    expect((await firstValueFrom(observable.ping({ id: 'o1' }))).id).toBe('o1');
  });

  it('names the pool in the error of every call to an unreachable server, the first one included', async () => {
    let pool: GrpcPool;
    ({ pool, app } = await startPool({
      name: 'nowhere',
      url: `127.0.0.1:${await freePort()}`,
      size: 2,
    }));
    const echo = pool.getService<EchoClient>('EchoService');
    for (let i = 0; i < 3; i++) {
      const error = await echo.ping({ id: `u${i}` }).catch((e: GrpcPoolCallError) => e);
      expect(error).toBeInstanceOf(GrpcPoolCallError);
      expect(error).toMatchObject({ code: status.UNAVAILABLE });
      expect((error as Error).message).toContain('grpc-pool "nowhere"');
    }
  });

  it('tells a per-attempt timeout from the call deadline in the error', async () => {
    const server = await backend('b1');
    let pool: GrpcPool;
    ({ pool, app } = await startPool({
      name: 'timeouts',
      url: server.address,
      size: 2,
      retry: { attemptTimeoutMs: 50, maxAttempts: 1 },
    }));
    const echo = pool.getService<EchoClient>('EchoService');
    const attempt = await echo
      .ping({ id: 'a', delayMs: 300 }, { deadline: 2_000 })
      .catch((e: GrpcPoolCallError) => e);
    expect(attempt).toMatchObject({ code: status.DEADLINE_EXCEEDED, reason: 'attempt-timeout' });
    expect((attempt as Error).message).toMatch(
      /grpc-pool "timeouts": EchoService.ping attempt 1 timed out after attemptTimeoutMs=50 ms \(per-attempt timeout/,
    );
    const call = await echo
      .ping({ id: 'd', delayMs: 300 }, { deadline: 30 })
      .catch((e: GrpcPoolCallError) => e);
    expect(call).toMatchObject({ code: status.DEADLINE_EXCEEDED, reason: 'deadline' });
    expect((call as Error).message).toMatch(
      /grpc-pool "timeouts": EchoService.ping call deadline exceeded/,
    );
  });

  it('names the pool, the budget and the original status when the retry budget stops a call', async () => {
    const server = await backend('b1');
    let pool: GrpcPool;
    ({ pool, app } = await startPool({
      name: 'spent',
      url: server.address,
      size: 3,
      retry: { attemptTimeoutMs: 50, budget: { ratio: 0, minPerSecond: 0 } },
    }));
    const echo = pool.getService<EchoClient>('EchoService');
    const error = await echo
      .ping({ id: 'b', delayMs: 300 }, { idempotent: true })
      .catch((e: GrpcPoolCallError) => e);
    expect(error).toMatchObject({ code: status.DEADLINE_EXCEEDED, reason: 'retry-budget' });
    expect((error as Error).message).toMatch(
      /grpc-pool "spent": retry budget exhausted \(ratio 0 of requests \+ 0\/s over 10000 ms\); EchoService.ping gave up after 1 attempt, last status 4 DEADLINE_EXCEEDED/,
    );
  });

  it('sends each hedge on another connection, keeps the first answer and counts the hedge', async () => {
    const server = await backend('b1');
    let pool: GrpcPool;
    ({ pool, app } = await startPool({ name: 'hedge', url: server.address, size: 3 }));
    const echo = pool.getService<EchoClient>('EchoService');
    class Gateway {
      @UsePooledGrpc('hedge', { hedging: { maxAttempts: 3, hedgingDelayMs: 30 } })
      get(id: string) {
        // the first attempt waits 1 s; the hedges answer at once
        return echo.ping({ id, delayMs: 1_000, delayAttempts: 1 });
      }
    }
    const started = performance.now();
    const reply = await new Gateway().get('h1');
    expect(performance.now() - started).toBeLessThan(500);
    expect(reply.attempt).toBe(2); // the first hedge won; the third was never needed
    expect(server.attempts.get('h1')).toBe(2);
    expect(server.peers.size).toBe(2); // on two different connections
    expect(await metricValue(GRPC_POOL_METRICS.hedges, { pool: 'hedge' })).toBe(1);
  });

  it('counts ejections by cause: health check, client-side timeouts, lost connections', async () => {
    const good = await backend('good');
    const sick = await backend('sick');
    const slow = await backend('slow');
    const doomed = await backend('doomed');
    sick.serving = 'NOT_SERVING';
    slow.extraDelayMs = 500;
    let pool: GrpcPool;
    ({ pool, app } = await startPool({
      name: 'causes',
      urls: [good.address, sick.address, slow.address, doomed.address],
      size: 1,
      healthCheck: { intervalMs: 50, timeoutMs: 1_000 },
      breaker: { timeoutThreshold: 2, ejectionMs: 60_000 },
      retry: { attemptTimeoutMs: 50, maxAttempts: 4 },
      balancer: { policy: 'round-robin' },
    }));
    const echo = pool.getService<EchoClient>('EchoService');
    await waitUntil(() => pool.healthReport().healthy === 3);
    doomed.kill();
    for (let i = 0; i < 40; i++) await echo.ping({ id: `c${i}` }, { idempotent: true });
    const ejections = (reason: string) =>
      metricValue(GRPC_POOL_METRICS.ejections, { pool: 'causes', reason });
    // one ejection per bad connection: the sick one by its health check, the slow one by its
    // timeouts, the dead one by whichever noticed first (health check, UNAVAILABLE, connectivity)
    expect(await ejections('timeout')).toBe(1);
    expect(await ejections('health_check')).toBeGreaterThanOrEqual(1);
    expect(await metricValue(GRPC_POOL_METRICS.ejections, { pool: 'causes' })).toBe(3);
    expect(pool.healthReport().healthy).toBe(1);
  });
});

async function waitUntil(predicate: () => boolean, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return predicate();
}
