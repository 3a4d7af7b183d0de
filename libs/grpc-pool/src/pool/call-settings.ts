import type { ResolvedGrpcPoolOptions } from '../grpc-pool.options';
import type {
  PooledCallOptions,
  PooledMethodPolicy,
} from '../interfaces/grpc-pool-options.interface';
import { policyHedging } from './method-policy';
import type { MethodMetrics } from './pool-metrics';
import type { CallSettings } from './pooled-call';

/**
 * The settings of one call: the call's options win over the `@UsePooledGrpc()` policy in force,
 * which wins over the pool's options. @internal
 */
export function callSettings(
  o: ResolvedGrpcPoolOptions,
  service: string,
  method: string,
  metrics: MethodMetrics,
  options: PooledCallOptions | undefined,
  policy: PooledMethodPolicy | undefined,
): CallSettings {
  const deadline = options?.deadline;
  return {
    service,
    method,
    metrics,
    deadline:
      deadline instanceof Date
        ? deadline.getTime()
        : Date.now() + (deadline ?? policy?.timeoutMs ?? o.timeoutMs),
    maxAttempts: policy?.maxAttempts ?? o.retry.maxAttempts,
    attemptTimeoutMs: policy?.attemptTimeoutMs ?? o.retry.attemptTimeoutMs,
    idempotent: options?.idempotent ?? policy?.idempotent ?? false,
    hedging: policy?.hedging === undefined ? o.hedging : (policyHedging.get(policy) ?? o.hedging),
  };
}
