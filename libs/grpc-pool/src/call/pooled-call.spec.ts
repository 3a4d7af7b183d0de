import { status } from '@grpc/grpc-js';
import { join } from 'node:path';
import { register } from 'prom-client';
import { GrpcPoolMetrics } from '../metrics/grpc-pool.metrics';
import { resolveGrpcPoolOptions } from '../options/grpc-pool.options';
import type { GrpcPoolOptions } from '../options/grpc-pool-options.interface';
import { callSettings } from './call-settings';
import { GrpcPool } from '../pool/grpc-pool';
import type { Attempt, AttemptInvoker } from './attempt';
import { PooledCall } from './pooled-call';

const protoPath = join(__dirname, '..', '..', '..', '..', 'scripts', 'support', 'echo.proto');

/** A pool whose attempts are played by `behaviour(connection index)`: no network. */
function setup(options: Partial<GrpcPoolOptions>, behaviour: (index: number) => 'ok' | 'hang') {
  register.clear();
  const pool = new GrpcPool(
    resolveGrpcPoolOptions({
      name: 'unit',
      package: 'echo.v1',
      protoPath,
      url: '127.0.0.1:9',
      credentials: { insecure: true },
      balancer: { policy: 'round-robin' },
      ...options,
    } as GrpcPoolOptions),
    new GrpcPoolMetrics(),
  );
  const cancelled: number[] = [];
  const started: number[] = [];
  const invoker: AttemptInvoker = {
    start(call: PooledCall, attempt: Attempt) {
      const index = attempt.connection.index;
      started.push(index);
      const timer =
        behaviour(index) === 'ok'
          ? setTimeout(() => call.settle(attempt, null, { index }), 2)
          : setTimeout(
              () =>
                call.settle(attempt, {
                  code: status.DEADLINE_EXCEEDED,
                  details: 'Deadline exceeded',
                }),
              Math.max(0, attempt.deadline - Date.now()),
            );
      attempt.handle = {
        cancel: () => {
          clearTimeout(timer);
          cancelled.push(index);
        },
      };
    },
  };
  const call = (callOptions: { deadline?: number; idempotent?: boolean } = {}) =>
    new PooledCall(
      pool,
      invoker,
      callSettings(
        pool.options,
        'EchoService',
        'ping',
        pool.metrics.method('EchoService', 'ping'),
        undefined,
      ),
      {},
      callOptions,
    ).run();
  return { pool, call, cancelled, started };
}

describe('PooledCall', () => {
  it('counts a client-side timeout against its connection, never as a success, and ejects it after timeoutThreshold', async () => {
    const { pool, call } = setup({ size: 2, retry: { attemptTimeoutMs: 20 } }, (i) =>
      i === 1 ? 'hang' : 'ok',
    );
    const hanging = pool.connections()[1];
    for (let i = 0; i < 6 && hanging.breaker.closed; i++) {
      await call({ idempotent: true }); // the retry on connection 0 answers
    }
    expect(hanging.breaker.current).toBe('open');
    expect((await register.getSingleMetric('grpc_pool_ejections_total')!.get()).values).toEqual([
      expect.objectContaining({ labels: { pool: 'unit', reason: 'timeout' }, value: 1 }),
    ]);
    pool.close();
  });

  it('does not blame a connection for a timeout when no other connection answered either', async () => {
    const { pool, call } = setup({ size: 2, retry: { attemptTimeoutMs: 10 } }, () => 'hang');
    for (let i = 0; i < 4; i++) {
      await expect(call({ idempotent: true, deadline: 100 })).rejects.toMatchObject({
        code: status.DEADLINE_EXCEEDED,
      });
    }
    expect(pool.healthReport().healthy).toBe(2);
    pool.close();
  });

  it('hedges on another connection after hedgingDelayMs, keeps the first answer and cancels the rest', async () => {
    const { pool, call, cancelled, started } = setup(
      { size: 3, hedging: { maxAttempts: 3, hedgingDelayMs: 10 } },
      (i) => (i === 0 ? 'hang' : 'ok'),
    );
    const reply = (await call()) as { index: number };
    expect(started[0]).toBe(0);
    expect(reply.index).toBe(started[1]);
    expect(started[1]).not.toBe(0);
    expect(cancelled).toEqual([0]); // the hanging first attempt
    expect(pool.connections().every((c) => c.inFlight === 0)).toBe(true);
    pool.close();
  });

  it('takes a retry-budget token and counts a hedge only when the hedge is really sent', async () => {
    // 2 connections, 3 hedged attempts: the third finds no connection left (a hedge never shares
    // one), so it must neither draw from the budget nor be counted.
    const { pool, call, started } = setup(
      {
        size: 2,
        hedging: { maxAttempts: 3, hedgingDelayMs: 5 },
        retry: { budget: { ratio: 0, minPerSecond: 1, windowMs: 3_000 } }, // 3 tokens
      },
      () => 'hang',
    );
    try {
      await expect(call({ deadline: 60 })).rejects.toMatchObject({
        code: status.DEADLINE_EXCEEDED,
      });
      expect(started).toHaveLength(2); // the first attempt and one hedge
      const hedges = await register.getSingleMetric('grpc_pool_hedged_attempts_total')!.get();
      expect(hedges.values).toEqual([expect.objectContaining({ value: 1 })]);
      // One token spent by the hedge that was sent: two are left.
      expect(pool.budget!.tryAcquireRetry()).toBe(true);
      expect(pool.budget!.tryAcquireRetry()).toBe(true);
      expect(pool.budget!.tryAcquireRetry()).toBe(false);
    } finally {
      pool.close();
    }
  });
});
