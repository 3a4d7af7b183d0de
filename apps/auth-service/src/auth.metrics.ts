import { Injectable } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';

/** `auth_service_verify_requests_total{result}`: VerifyToken calls this process answered. */
export const VERIFY_REQUESTS_METRIC = 'auth_service_verify_requests_total';

/**
 * This process's own counters, in a registry of its own (served by {@link AuthMetricsServer}
 * when AUTH_METRICS_PORT is set): how many calls each replica answered is what shows whether
 * clients spread their calls over the replicas. Labels: `result` (`valid`, `invalid`) only.
 */
@Injectable()
export class AuthMetrics {
  readonly registry = new Registry();
  private readonly verify = new Counter({
    name: VERIFY_REQUESTS_METRIC,
    help: 'VerifyToken calls answered by this auth-service process',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private readonly valid = this.verify.labels('valid');
  private readonly invalid = this.verify.labels('invalid');

  /** Counts one answered VerifyToken call. */
  verified(valid: boolean): void {
    (valid ? this.valid : this.invalid).inc();
  }
}
