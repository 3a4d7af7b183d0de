import type { TestingModule } from '@nestjs/testing';
import { GRPC_POOL_METRICS, type GrpcPool } from '@nest-resilience/grpc-pool';
import type { EchoClient } from '../scripts/support/grpc-backend';
import { EchoProcess } from '../scripts/support/echo-process';
import { startPool } from './support/grpc-pool-app';
import { load, quantile } from './support/grpc-load';
import { freePort } from '../scripts/support/free-port';
import { Haproxy } from '../scripts/support/haproxy';
import { metricValue } from './support/metrics';
import { sleep, waitFor } from './support/wait';

/**
 * Backends that are up but do not answer (SIGSTOP: the kernel keeps their TCP connections open,
 * haproxy's TCP check keeps them UP) or answer slowly, with the pool's default options.
 */
describe('grpc-pool with frozen and slow backend processes (default options)', () => {
  const backends = ['b1', 'b2', 'b3'].map((name) => new EchoProcess(name));
  let haproxy: Haproxy;
  let app: TestingModule | undefined;

  beforeAll(async () => {
    for (const b of backends) await b.start();
    haproxy = new Haproxy(
      await freePort(),
      backends.map((b) => b.address),
    );
    await haproxy.start();
  });

  afterEach(async () => {
    for (const b of backends) b.resume();
    await app?.close();
    app = undefined;
  });

  afterAll(async () => {
    for (const b of backends) b.resume(); // never leave a stopped process behind
    await haproxy?.stop();
    await Promise.all(backends.map((b) => b.kill()));
  });

  async function pool(options: Parameters<typeof startPool>[0]): Promise<GrpcPool> {
    const started = await startPool(options);
    app = started.app;
    return started.pool;
  }

  it('behind haproxy: moves off a SIGSTOPped backend, and its in-flight calls fail over once keepalive closes the connection', async () => {
    const p = await pool({ name: 'frozen-lb', url: haproxy.address, size: 3 });
    const echo = p.getService<EchoClient>('EchoService');
    const warm = await load((id) => echo.ping({ id }), 300);
    expect([...warm.byServer.keys()].sort()).toEqual(['b1', 'b2', 'b3']);

    const running = load((id) => echo.ping({ id }), 3_500); // default 5 s deadline
    await sleep(300);
    backends[0].freeze();
    const result = await running;

    expect(Object.fromEntries(result.errors)).toEqual({});
    expect(result.ok).toBeGreaterThan(500);
    // Only the calls already in flight on the frozen connection waited (at most one per caller),
    // and keepalive freed them within ~2 s: they failed over and succeeded.
    const waited = result.latencies.filter((ms) => ms > 500);
    expect(waited.length).toBeLessThanOrEqual(8);
    expect(Math.max(...result.latencies)).toBeLessThan(3_000);
    expect(quantile(result.latencies, 0.99)).toBeLessThan(250);
    expect(await metricValue(GRPC_POOL_METRICS.ejections, { pool: 'frozen-lb' })).toBeGreaterThan(
      0,
    );
  });

  it('as direct URLs: keeps the frozen backend ejected (probes get no answer) and takes it back once it resumes', async () => {
    const p = await pool({
      name: 'frozen-direct',
      urls: backends.map((b) => b.address),
      size: 1,
    });
    const echo = p.getService<EchoClient>('EchoService');
    await load((id) => echo.ping({ id }), 300);
    const frozen = backends[1];
    const running = load((id) => echo.ping({ id }), 3_500);
    await sleep(300);
    frozen.freeze();
    const result = await running;

    expect(Object.fromEntries(result.errors)).toEqual({});
    expect(result.latencies.filter((ms) => ms > 500).length).toBeLessThanOrEqual(8);
    expect(Math.max(...result.latencies)).toBeLessThan(3_000);
    const frozenConnection = () =>
      p.healthReport().connections.find((c) => c.target === frozen.address)!;
    expect(frozenConnection().circuit).not.toBe('closed');
    // the last second: nothing reached the frozen backend
    const late = await load((id) => echo.ping({ id }), 1_000);
    expect(late.failed).toBe(0);
    expect(late.byServer.get('b2')).toBeUndefined();

    frozen.resume();
    expect(await waitFor(() => frozenConnection().circuit === 'closed', 10_000)).toBe(true);
    const after = await load((id) => echo.ping({ id }), 1_500);
    expect(after.failed).toBe(0);
    expect(after.byServer.get('b2')).toBeGreaterThan(0);
  });

  it('sends new calls away from a backend slowed by 200 ms', async () => {
    const p = await pool({ name: 'slow', urls: backends.map((b) => b.address), size: 1 });
    const echo = p.getService<EchoClient>('EchoService');
    await load((id) => echo.ping({ id }), 300);
    await backends[2].command('slow 200');
    try {
      const result = await load((id) => echo.ping({ id }), 2_500);
      expect(result.failed).toBe(0);
      // Only the calls sent before its latency was measured, and a rare re-try once its estimate
      // decayed, wait the 200 ms: round-robin would send it a third of them.
      const slowCalls = result.latencies.filter((ms) => ms >= 190).length;
      expect(slowCalls).toBeLessThan(result.ok * 0.03);
      expect(result.byServer.get('b3') ?? 0).toBeLessThan(result.ok * 0.03);
    } finally {
      await backends[2].command('normal');
    }
  });

  it('hedged calls keep the p99 of a backend with random latency spikes low, and count their hedges', async () => {
    for (const b of backends) await b.command('spikes 0.1 400');
    try {
      const plain = await pool({ name: 'spiky', urls: backends.map((b) => b.address), size: 1 });
      const plainEcho = plain.getService<EchoClient>('EchoService');
      const unhedged = await load((id) => plainEcho.ping({ id }), 2_000, 4);
      await app!.close();

      const hedgedPool = await pool({
        name: 'hedged',
        urls: backends.map((b) => b.address),
        size: 1,
        hedging: { maxAttempts: 2, hedgingDelayMs: 20 },
      });
      const echo = hedgedPool.getService<EchoClient>('EchoService');
      const hedged = await load((id) => echo.ping({ id }), 2_000, 4);

      expect(unhedged.failed + hedged.failed).toBe(0);
      // Calls that waited out a spike: about 10% without hedging, about 1% with it (both
      // attempts would have to spike).
      const spiked = (r: typeof hedged) => r.latencies.filter((ms) => ms >= 390).length / r.ok;
      expect(spiked(unhedged)).toBeGreaterThan(0.05);
      expect(spiked(hedged)).toBeLessThan(spiked(unhedged) / 3);
      const hedges = await metricValue(GRPC_POOL_METRICS.hedges, { pool: 'hedged' });
      expect(hedges).toBeGreaterThan(0);
      // each hedge drew from the retry budget (20% + 10/s): it cannot double the traffic
      expect(hedges).toBeLessThan(hedged.ok * 0.2 + 10 * 10);
    } finally {
      for (const b of backends) await b.command('normal');
    }
  });

  it('a health-check ejection is counted once and not undone by the attempts that timed out on the frozen backend', async () => {
    const frozen = backends[0];
    const p = await pool({
      name: 'hc-frozen',
      urls: [backends[1].address, frozen.address],
      size: 1,
      keepalive: false, // the health check alone notices the freeze
      healthCheck: { intervalMs: 100, timeoutMs: 200 },
      breaker: { timeoutThreshold: 1_000, failureRate: false },
      retry: { attemptTimeoutMs: 100 },
    });
    const echo = p.getService<EchoClient>('EchoService');
    await load((id) => echo.ping({ id }), 300);
    frozen.freeze();
    const states: string[] = [];
    const watcher = setInterval(() => {
      const state = p.healthReport().connections.find((c) => c.target === frozen.address)!.circuit;
      if (states.at(-1) !== state) states.push(state);
    }, 5);
    const result = await load((id) => echo.ping({ id }, { idempotent: true }), 2_000);
    clearInterval(watcher);

    expect(result.failed).toBe(0); // timed-out attempts were retried on the other connection
    // ejected once, then only probes (half-open) that found no answer: never closed while frozen
    expect(states[0]).toBe('closed');
    expect(states.slice(1)).not.toContain('closed');
    expect(states).toContain('open');
    expect(
      await metricValue(GRPC_POOL_METRICS.ejections, { pool: 'hc-frozen', reason: 'health_check' }),
    ).toBe(1);
    expect(await metricValue(GRPC_POOL_METRICS.ejections, { pool: 'hc-frozen' })).toBe(1);
  });
});
