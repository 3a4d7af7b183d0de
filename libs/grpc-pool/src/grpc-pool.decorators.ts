import { Inject } from '@nestjs/common';
import { GrpcPoolOptionsError } from './errors/grpc-pool.errors';
import type { PooledMethodPolicy } from './options/grpc-pool-options.interface';
import { resolveHedging } from './options/grpc-pool.options';
import { methodPolicies, policyHedging } from './call/method-policy';

/** Injection token of the pool registered under `name`. */
export function getGrpcPoolToken(name: string): string {
  return `GRPC_POOL:${name}`;
}

/**
 * Injects the `GrpcPool` registered under `name` with `GrpcPoolModule.register({ name, … })`.
 *
 * @example
 * constructor(@InjectGrpcPool('users') private readonly users: GrpcPool) {}
 */
export function InjectGrpcPool(name: string): ParameterDecorator & PropertyDecorator {
  return Inject(getGrpcPoolToken(name));
}

/**
 * Runs the decorated method's calls on pool `name` under a per-method policy (async context, so
 * every pooled call the method makes, awaited or not, sees it).
 *
 * @example
 * \@UsePooledGrpc('users', { idempotent: true, attemptTimeoutMs: 100 })
 * // or hedged: { hedging: { maxAttempts: 2, hedgingDelayMs: 20 } }
 * getUser(id: string) { return this.users.getService<Users>('UserService').getUser({ id }); }
 */
export function UsePooledGrpc(name: string, policy: PooledMethodPolicy = {}): MethodDecorator {
  validatePolicy(name, policy);
  return (_target, _key, descriptor: PropertyDescriptor) => {
    const original = descriptor.value as (...args: unknown[]) => unknown;
    if (typeof original !== 'function')
      throw new TypeError('@UsePooledGrpc() decorates methods only');
    const wrapped = function (this: unknown, ...args: unknown[]): unknown {
      const policies = new Map(methodPolicies.getStore());
      policies.set(name, policy);
      return methodPolicies.run(policies, () => original.apply(this, args));
    };
    // Keep the metadata other decorators (e.g. @GrpcMethod, @Get) attached to the original.
    for (const key of Reflect.getMetadataKeys(original)) {
      Reflect.defineMetadata(key, Reflect.getMetadata(key, original), wrapped);
    }
    Object.defineProperty(wrapped, 'name', { value: original.name });
    descriptor.value = wrapped;
    return descriptor;
  };
}

function validatePolicy(pool: string, policy: PooledMethodPolicy): void {
  for (const key of ['maxAttempts', 'timeoutMs', 'attemptTimeoutMs'] as const) {
    const value = policy[key];
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw new GrpcPoolOptionsError(
        pool,
        `@UsePooledGrpc().${key}`,
        value,
        'expected an integer >= 1',
      );
    }
  }
  if (policy.hedging !== undefined) {
    const fail = (option: string, value: unknown, expected: string): never => {
      throw new GrpcPoolOptionsError(pool, option, value, expected);
    };
    policyHedging.set(
      policy,
      policy.hedging === false
        ? false
        : resolveHedging(fail, '@UsePooledGrpc().hedging', policy.hedging),
    );
  }
}
