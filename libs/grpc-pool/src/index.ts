export {
  GrpcPoolModule,
  type GrpcPoolAsyncOptions,
  type GrpcPoolAsyncOptionsResult,
  type GrpcPoolOptionsFactory,
} from './grpc-pool.module';
export {
  GrpcPool,
  type GrpcPoolHealth,
  type PooledAttempt,
  type PooledUnary,
} from './pool/grpc-pool';
export { InjectGrpcPool, UsePooledGrpc, getGrpcPoolToken } from './grpc-pool.decorators';
export {
  GrpcPoolHealthIndicator,
  type GrpcPoolHealthCheckOptions,
  type GrpcPoolHealthResult,
} from './grpc-pool.health';
export type { HealthResult } from '@nest-resilience/common';
export { GRPC_POOL_METRICS } from './grpc-pool.constants';
export type { CircuitState, EjectionReason } from './connection/connection-breaker';
export * from './errors/grpc-pool.errors';
export type * from './options/grpc-pool-options.interface';
export type * from './options/discovery-options.interface';
export type { GrpcPoolEndpointReport } from './discovery/endpoint-set';
export type { ResolutionResult } from './discovery/dns-lookup';
export { GrpcPoolDiscoveryError } from './discovery/discovery.errors';
