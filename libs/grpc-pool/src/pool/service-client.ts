import { Observable } from 'rxjs';
import { GrpcPoolMethodNotFoundError } from '../errors/grpc-pool.errors';
import type { PooledCallOptions } from '../options/grpc-pool-options.interface';
import type { ProtoService } from '../connection/proto-services';

type PooledMethod = (request: unknown, options?: PooledCallOptions) => unknown;

/** What the service client needs from the pool. @internal */
export interface ServiceClientTarget {
  readonly name: string;
  /** A pooled method of `service` (unary through the attempt loop, streaming passed through). */
  method(
    service: ProtoService,
    method: string,
    kind: { requestStream: boolean; responseStream: boolean },
    mode: 'promise' | 'observable',
  ): PooledMethod;
}

/**
 * The object `getService()` / `getObservableService()` return: the service's methods as own
 * properties (built once); an unknown method rejects with
 * {@link GrpcPoolMethodNotFoundError} instead of being `undefined`. @internal
 */
export function createServiceClient<T extends object>(
  pool: ServiceClientTarget,
  service: ProtoService,
  mode: 'promise' | 'observable',
): T {
  const methods = new Map<string, PooledMethod>();
  for (const [name, kind] of service.methods)
    methods.set(name, pool.method(service, name, kind, mode));
  const missing = (property: string) => () => {
    const error = new GrpcPoolMethodNotFoundError(pool.name, service.name, property);
    if (mode === 'observable') return new Observable((s) => s.error(error));
    return Promise.reject(error);
  };
  // Known methods are own properties (no Proxy trap on the hot path); only a lookup that misses
  // reaches the Proxy prototype, which answers with a method that fails naming the method.
  const fallback = new Proxy(
    {},
    {
      get: (_target, property) =>
        typeof property !== 'string' || property === 'then' ? undefined : missing(property),
      has: () => false,
    },
  );
  const client = Object.create(fallback) as Record<string, PooledMethod>;
  for (const [name, method] of methods)
    Object.defineProperty(client, name, { value: method, enumerable: true });
  return client as T;
}
