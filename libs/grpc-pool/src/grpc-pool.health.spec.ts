import { ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { GrpcPoolHealthIndicator } from './grpc-pool.health';
import type { GrpcPool, GrpcPoolHealth } from './pool/grpc-pool';

/** A pool reduced to what the indicator reads: its name and its health report. */
function poolWith(healthy: number, size = 3): GrpcPool {
  const report: GrpcPoolHealth = {
    name: 'auth',
    healthy,
    size,
    connections: Array.from({ length: size }, (_, index) => ({
      index,
      target: `10.0.0.${index}:50061`,
      address: `10.0.0.${index}:50061`,
      circuit: index < healthy ? 'closed' : 'open',
      connectivity: index < healthy ? 'READY' : 'TRANSIENT_FAILURE',
    })),
  };
  return { name: 'auth', healthReport: () => report } as unknown as GrpcPool;
}

describe('GrpcPoolHealthIndicator', () => {
  let indicator: GrpcPoolHealthIndicator;
  let health: HealthCheckService;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [TerminusModule.forRoot({ logger: false })],
      providers: [GrpcPoolHealthIndicator],
    }).compile();
    indicator = moduleRef.get(GrpcPoolHealthIndicator);
    health = moduleRef.get(HealthCheckService);
  });

  it('is up while at least minHealthy connections have a closed circuit', () => {
    expect(indicator.isHealthy(poolWith(1))['grpc-pool:auth']).toMatchObject({
      status: 'up',
      healthy: 1,
      size: 3,
    });
    expect(indicator.isHealthy(poolWith(1), 2)['grpc-pool:auth'].status).toBe('down');
    expect(indicator.isHealthy(poolWith(2), { minHealthy: 2 })['grpc-pool:auth'].status).toBe('up');
  });

  it('fails the terminus check (503) when the pool is down, by default', async () => {
    const error = await health
      .check([() => indicator.isHealthy(poolWith(0))])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableException);
    const body = (error as ServiceUnavailableException).getResponse() as {
      status: string;
      error: Record<string, { status: string; message: string }>;
    };
    expect(body.status).toBe('error');
    expect(body.error['grpc-pool:auth']).toMatchObject({ status: 'down', healthy: 0, size: 3 });
    expect(body.error['grpc-pool:auth'].message).toMatch(/grpc pool "auth" fail fast/);
  });

  it("with whenDown: 'degraded' reports the pool down in the body without failing the check", async () => {
    const result = await health.check([
      () => indicator.isHealthy(poolWith(0), { whenDown: 'degraded' }),
    ]);
    expect(result.status).toBe('degraded');
    expect(result.details['grpc-pool:auth']).toMatchObject({
      status: 'degraded',
      healthy: 0,
      size: 3,
      message: '0 of 3 connection(s) healthy (needs 1): calls to grpc pool "auth" fail fast',
    });
    expect(result.error).toEqual({});
    // and up again once a connection recovers
    const ok = await health.check([
      () => indicator.isHealthy(poolWith(1), { whenDown: 'degraded' }),
    ]);
    expect(ok.status).toBe('ok');
  });

  it.each([
    [{ minHealthy: 0 }, /minHealthy must be an integer ≥ 1, got 0/],
    [{ minHealthy: 1.5 }, /minHealthy must be an integer ≥ 1, got 1.5/],
    [{ whenDown: 'ignore' }, /whenDown must be 'down' or 'degraded', got "ignore"/],
  ])('rejects a bad option %j naming it and its value', (options, message) => {
    expect(() => indicator.isHealthy(poolWith(1), options as never)).toThrow(message);
  });
});
