import type { ResolvedGrpcPoolOptions, ResolvedHedging } from '../options/grpc-pool.options';
import type { PooledCallOptions, PooledMethodPolicy } from '../options/grpc-pool-options.interface';
import { policyHedging } from './method-policy';
import type { MethodMetrics } from '../metrics/pool-metrics';

/**
 * The settings of one method under one `@UsePooledGrpc()` policy (or none), resolved once and
 * shared by every call: the policy wins over the pool's options. A call's own options (deadline,
 * idempotent) are applied per call on top, see {@link callDeadline}. @internal
 */
export interface CallSettings {
  readonly service: string;
  readonly method: string;
  readonly metrics: MethodMetrics;
  /** Deadline of a call that sets none (ms from its start). */
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly attemptTimeoutMs?: number;
  /** Whether calls are idempotent unless their options say otherwise. */
  readonly idempotent: boolean;
  readonly hedging: ResolvedHedging | false;
}

/** Resolves the settings of `service`/`method` under `policy`. @internal */
export function callSettings(
  o: ResolvedGrpcPoolOptions,
  service: string,
  method: string,
  metrics: MethodMetrics,
  policy: PooledMethodPolicy | undefined,
  hedge = true,
): CallSettings {
  return {
    service,
    method,
    metrics,
    timeoutMs: policy?.timeoutMs ?? o.timeoutMs,
    maxAttempts: policy?.maxAttempts ?? o.retry.maxAttempts,
    attemptTimeoutMs: policy?.attemptTimeoutMs ?? o.retry.attemptTimeoutMs,
    idempotent: policy?.idempotent ?? false,
    hedging: !hedge
      ? false
      : policy?.hedging === undefined
        ? o.hedging
        : (policyHedging.get(policy) ?? o.hedging),
  };
}

/**
 * The settings of one method, resolved on first use per policy and kept (policies are the
 * decorators' own objects, validated once, so the same few come back on every call). @internal
 */
export class MethodSettings {
  private readonly unmanaged: CallSettings;
  private readonly byPolicy = new WeakMap<PooledMethodPolicy, CallSettings>();

  constructor(
    private readonly options: ResolvedGrpcPoolOptions,
    private readonly service: string,
    private readonly method: string,
    private readonly metrics: MethodMetrics,
    /** False for callWithRetry (its attempts cannot be cancelled). */
    private readonly hedge = true,
  ) {
    this.unmanaged = callSettings(options, service, method, metrics, undefined, hedge);
  }

  /** The settings under `policy` (the `@UsePooledGrpc()` policy in force, if any). */
  get(policy: PooledMethodPolicy | undefined): CallSettings {
    if (policy === undefined) return this.unmanaged;
    let settings = this.byPolicy.get(policy);
    if (settings === undefined) {
      settings = callSettings(
        this.options,
        this.service,
        this.method,
        this.metrics,
        policy,
        this.hedge,
      );
      this.byPolicy.set(policy, settings);
    }
    return settings;
  }
}

/** Deadline of one call (ms epoch): its own `deadline` option, else `timeoutMs` from now. @internal */
export function callDeadline(options: PooledCallOptions | undefined, timeoutMs: number): number {
  const deadline = options?.deadline;
  if (deadline === undefined || deadline === null) return Date.now() + timeoutMs;
  return deadline instanceof Date ? deadline.getTime() : Date.now() + deadline;
}
