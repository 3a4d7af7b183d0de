import { DynamicModule, Module, type FactoryProvider, type ModuleMetadata } from '@nestjs/common';
import { getGrpcPoolToken } from './grpc-pool.decorators';
import { GrpcPoolHealthIndicator } from './grpc-pool.health';
import { GrpcPoolMetrics, grpcPoolMetricProviders } from './grpc-pool.metrics';
import { resolveGrpcPoolOptions } from './grpc-pool.options';
import type { GrpcPoolOptions } from './interfaces/grpc-pool-options.interface';
import { GrpcPool } from './pool/grpc-pool';
import { TerminusModule } from '@nestjs/terminus';

/** Options of `GrpcPoolModule.registerAsync()`. */
export interface GrpcPoolAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** Name of the pool (needed up front: it is the injection token). */
  name: string;
  useFactory: (
    ...args: never[]
  ) => Omit<GrpcPoolOptions, 'name'> | Promise<Omit<GrpcPoolOptions, 'name'>>;
  inject?: FactoryProvider['inject'];
  /** Make the pool injectable in every module. @default false */
  isGlobal?: boolean;
}

/**
 * Pooled gRPC clients. Register one pool per downstream service; each is injected with
 * `@InjectGrpcPool(name)`, connects at bootstrap and closes every channel at shutdown.
 *
 * @example
 * GrpcPoolModule.register({ name: 'users', package: 'users.v1', protoPath, url: 'users:50051', size: 3, credentials: { insecure: true } })
 */
@Module({})
export class GrpcPoolModule {
  static register(options: GrpcPoolOptions & { isGlobal?: boolean }): DynamicModule {
    const { isGlobal, ...poolOptions } = options;
    const resolved = resolveGrpcPoolOptions(poolOptions);
    return this.build(resolved.name, isGlobal ?? false, [], {
      provide: getGrpcPoolToken(resolved.name),
      inject: [GrpcPoolMetrics],
      useFactory: (metrics: GrpcPoolMetrics) => createPool(new GrpcPool(resolved, metrics)),
    });
  }

  static registerAsync(options: GrpcPoolAsyncOptions): DynamicModule {
    return this.build(options.name, options.isGlobal ?? false, options.imports ?? [], {
      provide: getGrpcPoolToken(options.name),
      inject: [GrpcPoolMetrics, ...(options.inject ?? [])],
      useFactory: async (metrics: GrpcPoolMetrics, ...deps: never[]) => {
        const poolOptions = await options.useFactory(...deps);
        return createPool(
          new GrpcPool(resolveGrpcPoolOptions({ ...poolOptions, name: options.name }), metrics),
        );
      },
    });
  }

  private static build(
    name: string,
    global: boolean,
    imports: NonNullable<ModuleMetadata['imports']>,
    pool: FactoryProvider,
  ): DynamicModule {
    return {
      module: GrpcPoolModule,
      global,
      imports: [...imports, TerminusModule],
      providers: [...grpcPoolMetricProviders, GrpcPoolMetrics, GrpcPoolHealthIndicator, pool],
      exports: [pool.provide, GrpcPoolHealthIndicator],
    };
  }
}

/** Ties the pool to the Nest lifecycle: connect at bootstrap, close at shutdown. */
function createPool(pool: GrpcPool): GrpcPool {
  return Object.assign(pool, {
    onApplicationBootstrap: () => pool.connect(),
    onApplicationShutdown: () => pool.close(),
  });
}
