import { Injectable } from '@nestjs/common';
import {
  applyWhenDown,
  checkWhenDown,
  healthResult,
  type DegradableHealthResult,
  type HealthResult,
  type WhenDown,
} from '@nest-resilience/common';
import type { GrpcPool } from './pool/grpc-pool';

/** Options of {@link GrpcPoolHealthIndicator.isHealthy}. */
export interface GrpcPoolHealthCheckOptions {
  /**
   * Connections with a closed circuit the pool needs to count as up (an integer ≥ 1).
   * @default 1
   */
  minHealthy?: number;
  /**
   * What a pool below `minHealthy` reports. `'down'` fails the health check (terminus answers
   * 503); `'degraded'` only reports it: the check passes (200, overall status `degraded`), for
   * a readiness probe that must not take every replica out of rotation because a downstream
   * service is down. `'degraded'` needs `@nestjs/terminus` ≥ 12 (11 leaves such a result out).
   * @default 'down'
   */
  whenDown?: WhenDown;
}

/**
 * {@link HealthResult} whose status may also be `degraded` (terminus ≥ 12: the check passes and
 * the overall status becomes `degraded`).
 */
export type GrpcPoolHealthResult = DegradableHealthResult;

/**
 * `@nestjs/terminus` indicator of a pool (terminus itself is only needed by the app's
 * `HealthCheckService`): up while at least `minHealthy` connections have a closed
 * circuit, with the state of each connection.
 *
 * @example
 * // liveness/readiness of this process must not depend on a downstream service:
 * ready() { return this.health.check([() => this.grpcHealth.isHealthy(this.authPool, { whenDown: 'degraded' })]); }
 * // a full report that fails while the pool is down:
 * check() { return this.health.check([() => this.grpcHealth.isHealthy(this.usersPool)]); }
 */
@Injectable()
export class GrpcPoolHealthIndicator {
  /**
   * The pool's result under key `grpc-pool:<name>`: `{ status, healthy, size, connections }`,
   * and a `message` when below `minHealthy`. A number is `minHealthy` (the older signature).
   * A bad option throws, naming it and its value.
   */
  isHealthy(
    pool: GrpcPool,
    options: number | GrpcPoolHealthCheckOptions = {},
  ): HealthResult | GrpcPoolHealthResult {
    const { minHealthy = 1, whenDown: given } =
      typeof options === 'number' ? { minHealthy: options } : options;
    const whenDown = checkWhenDown('GrpcPoolHealthIndicator', given);
    if (!Number.isInteger(minHealthy) || minHealthy < 1)
      throw new TypeError(
        `GrpcPoolHealthIndicator: minHealthy must be an integer ≥ 1, got ${String(minHealthy)}`,
      );
    const report = pool.healthReport();
    const key = `grpc-pool:${pool.name}`;
    const data = {
      healthy: report.healthy,
      size: report.size,
      connections: report.connections,
      ...(report.endpoints && { endpoints: report.endpoints, draining: report.draining }),
    };
    if (report.healthy >= minHealthy) return healthResult(key, true, data);
    const message = `${report.healthy} of ${report.size} connection(s) healthy (needs ${minHealthy}): calls to grpc pool "${pool.name}" fail fast`;
    return applyWhenDown(key, healthResult(key, false, { ...data, message }), whenDown);
  }
}
