import { ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import { DedupHealthIndicator } from './dedup.health';
import { DedupModule } from './dedup.module';
import type { DedupStore } from './stores/dedup.store';
import { PostgresInboxStore } from './stores/postgres/postgres-inbox.store';

/** An inbox store reduced to its `ping` (the only call the indicator makes on it). */
function inboxStore(ping: () => Promise<void>): DedupStore {
  return Object.assign(Object.create(PostgresInboxStore.prototype) as PostgresInboxStore, {
    name: 'postgres',
    ping,
  });
}

const refused = inboxStore(() => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')));

describe('DedupHealthIndicator', () => {
  let health: HealthCheckService;
  let memory: DedupHealthIndicator;

  beforeAll(async () => {
    register.clear();
    const moduleRef = await Test.createTestingModule({
      imports: [
        DedupModule.forRoot({ cleanupCron: false }),
        TerminusModule.forRoot({ logger: false }),
      ],
    }).compile();
    health = moduleRef.get(HealthCheckService);
    memory = moduleRef.get(DedupHealthIndicator);
  });

  it('reports the memory store up under the given key', async () => {
    expect(await memory.isHealthy('dedup-store')).toEqual({
      'dedup-store': {
        status: 'up',
        store: 'memory',
        // the dedup window rides along (default ttl 1 h, minWindowSeconds 300 s)
        windowSeconds: 3_600,
        minWindowSeconds: 300,
        windowReliable: true,
      },
    });
  });

  it('fails the terminus check (503) with the cause when the store does not answer, by default', async () => {
    const indicator = new DedupHealthIndicator(refused);
    const error = await health
      .check([() => indicator.isHealthy('dedup-store')])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableException);
    const body = (error as ServiceUnavailableException).getResponse() as {
      error: Record<string, unknown>;
    };
    expect(body.error['dedup-store']).toEqual({
      status: 'down',
      store: 'postgres',
      message: 'connect ECONNREFUSED 127.0.0.1:5432',
    });
  });

  it("with whenDown: 'degraded' reports the store down in the body without failing the check", async () => {
    const indicator = new DedupHealthIndicator(refused);
    const result = await health.check([
      () => indicator.isHealthy('dedup-store', { whenDown: 'degraded' }),
    ]);
    expect(result.status).toBe('degraded');
    expect(result.details['dedup-store']).toEqual({
      status: 'degraded',
      store: 'postgres',
      message: 'connect ECONNREFUSED 127.0.0.1:5432',
    });
  });

  it('gives a store that hangs timeoutMs, then reports it down naming the timeout', async () => {
    const hanging = new DedupHealthIndicator(inboxStore(() => new Promise<void>(() => undefined)));
    const started = Date.now();
    const result = await hanging.isHealthy('db', { timeoutMs: 50 });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(result.db).toMatchObject({ status: 'down', message: 'no answer within 50 ms' });
    expect((await hanging.isHealthy('db', 30)).db).toMatchObject({
      message: 'no answer within 30 ms',
    });
  });

  it.each([
    [{ timeoutMs: 0 }, /timeoutMs must be a number > 0, got 0/],
    [{ timeoutMs: Number.NaN }, /timeoutMs must be a number > 0, got NaN/],
    [{ whenDown: 'up' }, /whenDown must be 'down' or 'degraded', got "up"/],
  ])('rejects a bad option %j naming it and its value', async (options, message) => {
    await expect(memory.isHealthy('x', options as never)).rejects.toThrow(message);
  });
});
