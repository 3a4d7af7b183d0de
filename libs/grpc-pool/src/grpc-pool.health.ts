import { Injectable } from '@nestjs/common';
import { healthResult, type HealthResult } from './peers/health-result';
import type { GrpcPool } from './pool/grpc-pool';

/**
 * `@nestjs/terminus` indicator of a pool (terminus itself is only needed by the app's
 * `HealthCheckService`): up while at least `minHealthy` connections have a closed
 * circuit, with the state of each connection.
 *
 * @example
 * check() { return this.health.check([() => this.grpcHealth.isHealthy(this.usersPool)]); }
 */
@Injectable()
export class GrpcPoolHealthIndicator {
  isHealthy(pool: GrpcPool, minHealthy = 1): HealthResult {
    const report = pool.healthReport();
    const data = {
      healthy: report.healthy,
      size: report.size,
      connections: report.connections,
      ...(report.endpoints && { endpoints: report.endpoints, draining: report.draining }),
    };
    return healthResult(`grpc-pool:${pool.name}`, report.healthy >= minHealthy, data);
  }
}
