import {
  DynamicModule,
  Module,
  type FactoryProvider,
  type ModuleMetadata,
  type Provider,
  type Type,
} from '@nestjs/common';
import { GrpcPoolOptionsError } from './errors/grpc-pool.errors';
import { getGrpcPoolToken } from './grpc-pool.decorators';
import { GrpcPoolHealthIndicator } from './grpc-pool.health';
import { GrpcPoolMetrics } from './metrics/grpc-pool.metrics';
import { resolveGrpcPoolOptions } from './options/grpc-pool.options';
import type { GrpcPoolOptions } from './options/grpc-pool-options.interface';
import { GrpcPool } from './pool/grpc-pool';

/** The options of one pool, without its name (given to `registerAsync` up front). */
export type GrpcPoolAsyncOptionsResult = Omit<GrpcPoolOptions, 'name'>;

/**
 * A class that creates a pool's options, for `registerAsync({ useClass })` or `{ useExisting }`
 * (as Nest's `ClientsModuleOptionsFactory`).
 *
 * @example
 * \@Injectable()
 * class UsersPoolOptions implements GrpcPoolOptionsFactory {
 *   constructor(private readonly config: ConfigService) {}
 *   createGrpcPoolOptions() { return { …, url: this.config.get('USERS_URL') }; }
 * }
 */
export interface GrpcPoolOptionsFactory {
  createGrpcPoolOptions(): GrpcPoolAsyncOptionsResult | Promise<GrpcPoolAsyncOptionsResult>;
}

/** Options of `GrpcPoolModule.registerAsync()`: one of `useFactory`, `useClass`, `useExisting`. */
export interface GrpcPoolAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** Name of the pool (needed up front: it is the injection token). */
  name: string;
  useFactory?: (
    ...args: never[]
  ) => GrpcPoolAsyncOptionsResult | Promise<GrpcPoolAsyncOptionsResult>;
  /** Dependencies of `useFactory`. */
  inject?: FactoryProvider['inject'];
  /** A {@link GrpcPoolOptionsFactory} class, instantiated in this module. */
  useClass?: Type<GrpcPoolOptionsFactory>;
  /** A {@link GrpcPoolOptionsFactory} provider that already exists (exported by an imported module). */
  useExisting?: Type<GrpcPoolOptionsFactory> | string | symbol;
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
  /**
   * Registers pool `options.name`. The options are validated when the provider is created, so a
   * bad option fails the application's bootstrap (as with `registerAsync`), naming it.
   */
  static register(options: GrpcPoolOptions & { isGlobal?: boolean }): DynamicModule {
    const { isGlobal, ...poolOptions } = options;
    return this.build(poolOptions.name, isGlobal ?? false, [], [], {
      provide: getGrpcPoolToken(poolOptions.name),
      inject: [GrpcPoolMetrics],
      useFactory: (metrics: GrpcPoolMetrics) =>
        createPool(new GrpcPool(resolveGrpcPoolOptions(poolOptions), metrics)),
    });
  }

  /** Registers pool `options.name` with options from a factory, a class or an existing provider. */
  static registerAsync(options: GrpcPoolAsyncOptions): DynamicModule {
    const { name } = options;
    const create = (metrics: GrpcPoolMetrics, poolOptions: GrpcPoolAsyncOptionsResult) =>
      createPool(new GrpcPool(resolveGrpcPoolOptions({ ...poolOptions, name }), metrics));
    const given = [options.useFactory, options.useClass, options.useExisting].filter(
      (x) => x !== undefined,
    ).length;
    if (given !== 1) {
      throw new GrpcPoolOptionsError(
        name,
        'registerAsync',
        Object.keys(options),
        'give exactly one of useFactory, useClass, useExisting',
      );
    }
    const extra: Provider[] = [];
    let pool: FactoryProvider;
    if (options.useFactory) {
      const useFactory = options.useFactory;
      pool = {
        provide: getGrpcPoolToken(name),
        inject: [GrpcPoolMetrics, ...(options.inject ?? [])],
        useFactory: async (metrics: GrpcPoolMetrics, ...deps: never[]) =>
          create(metrics, await useFactory(...deps)),
      };
    } else {
      const factoryToken = options.useClass ?? options.useExisting!;
      if (options.useClass) extra.push({ provide: options.useClass, useClass: options.useClass });
      pool = {
        provide: getGrpcPoolToken(name),
        inject: [GrpcPoolMetrics, factoryToken],
        useFactory: async (metrics: GrpcPoolMetrics, factory: GrpcPoolOptionsFactory) =>
          create(metrics, await factory.createGrpcPoolOptions()),
      };
    }
    return this.build(name, options.isGlobal ?? false, options.imports ?? [], extra, pool);
  }

  private static build(
    _name: string,
    global: boolean,
    imports: NonNullable<ModuleMetadata['imports']>,
    extra: Provider[],
    pool: FactoryProvider,
  ): DynamicModule {
    return {
      module: GrpcPoolModule,
      global,
      imports,
      providers: [GrpcPoolMetrics, GrpcPoolHealthIndicator, ...extra, pool],
      exports: [pool.provide, GrpcPoolHealthIndicator],
    };
  }
}

/**
 * Ties the pool to the Nest lifecycle: waits for its addresses (discovery), connects at bootstrap,
 * closes at shutdown. A pool that gets no address within its bound fails the bootstrap, closed.
 */
async function createPool(pool: GrpcPool): Promise<GrpcPool> {
  try {
    await pool.ready();
  } catch (error) {
    pool.close();
    throw error;
  }
  return Object.assign(pool, {
    onApplicationBootstrap: () => pool.connect(),
    onApplicationShutdown: () => pool.close(),
  });
}
