import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { GrpcPool } from './pool/grpc-pool';

/**
 * `@nestjs/terminus` indicator of a pool: up while at least `minHealthy` connections have a closed
 * circuit, with the state of each connection.
 *
 * @example
 * check() { return this.health.check([() => this.grpcHealth.isHealthy(this.usersPool)]); }
 */
@Injectable()
export class GrpcPoolHealthIndicator {
  constructor(private readonly indicators: HealthIndicatorService) {}

  isHealthy(pool: GrpcPool, minHealthy = 1): HealthIndicatorResult {
    const report = pool.healthReport();
    const session = this.indicators.check(`grpc-pool:${pool.name}`);
    const data = { healthy: report.healthy, size: report.size, connections: report.connections };
    return report.healthy >= minHealthy ? session.up(data) : session.down(data);
  }
}
