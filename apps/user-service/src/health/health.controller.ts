import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { DedupHealthIndicator } from '@nest-resilience/kafka-dedup';
import { GrpcPoolHealthIndicator } from '@nest-resilience/grpc-pool';
import { AuthGateway } from '../auth/auth.gateway';
import { HealthChecks } from './health.checks';

/**
 * Three endpoints, three meanings (the Kubernetes probes':
 * docker/k8s/user-service.deployment.yaml):
 *
 * - `GET /health/live`: the process can make progress. Nothing external: a database or broker
 *   outage must not restart every replica. Reports the event loop's recent delay.
 * - `GET /health/ready`: this replica can do its own job: the Kafka consumer has joined its group,
 *   the dedup store and the database answer. 503 naming what is down. The auth pool is reported
 *   (`degraded` while no auth connection is healthy) but never fails it: gRPC `GetUser` and the CDC
 *   consumer do not need auth, and an auth outage failing readiness would take every replica out
 *   of rotation at once — the cascade the pool is there to prevent.
 * - `GET /health`: the full report; 503 when any part is down, the auth pool included.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly checks: HealthChecks,
    private readonly dedup: DedupHealthIndicator,
    private readonly grpcPool: GrpcPoolHealthIndicator,
    private readonly auth: AuthGateway,
  ) {}

  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([() => this.checks.eventLoopDelay()]);
  }

  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.checks.kafkaConsumer(),
      () => this.dedup.isHealthy('dedup-store'),
      () => this.checks.databasePing(),
      () => this.grpcPool.isHealthy(this.auth.pool, { whenDown: 'degraded' }),
    ]);
  }

  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.checks.kafkaConsumer(),
      () => this.dedup.isHealthy('dedup-store'),
      () => this.grpcPool.isHealthy(this.auth.pool),
      () => this.checks.databasePing(),
      () => this.checks.eventLoopDelay(),
    ]);
  }
}
