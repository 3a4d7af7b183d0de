import { AsyncLocalStorage } from 'node:async_hooks';
import type { ResolvedHedging } from '../options/grpc-pool.options';
import type { PooledMethodPolicy } from '../options/grpc-pool-options.interface';

/** Policies of the `@UsePooledGrpc()` methods running in the current async context, by pool. @internal */
export const methodPolicies = new AsyncLocalStorage<ReadonlyMap<string, PooledMethodPolicy>>();

/** Hedging of each `@UsePooledGrpc()` policy, validated when the decorator ran. @internal */
export const policyHedging = new WeakMap<PooledMethodPolicy, ResolvedHedging | false>();

/** The policy that `@UsePooledGrpc(pool)` put in force for the running method, if any. @internal */
export function currentMethodPolicy(pool: string): PooledMethodPolicy | undefined {
  return methodPolicies.getStore()?.get(pool);
}
