import { join } from 'node:path';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import { GrpcPoolModule, type GrpcPoolOptionsFactory } from './grpc-pool.module';
import { InjectGrpcPool, UsePooledGrpc } from './grpc-pool.decorators';
import type { GrpcPoolOptions } from './options/grpc-pool-options.interface';
import { GrpcPool } from './pool/grpc-pool';

const protoPath = join(__dirname, '..', '..', '..', 'scripts', 'support', 'echo.proto');
const base: GrpcPoolOptions = {
  name: 'users',
  package: 'echo.v1',
  protoPath,
  url: '127.0.0.1:50051',
  credentials: { insecure: true },
};

describe('GrpcPoolModule', () => {
  beforeEach(() => register.clear());

  it.each([
    [{ size: 0 }, /invalid option "size" = 0/],
    [{ size: -2 }, /invalid option "size" = -2/],
    [{ size: 1.5 }, /invalid option "size" = 1.5/],
    [{ url: '' }, /invalid option "url" = ""/],
    [{ url: 'http://users' }, /invalid option "url" = "http:\/\/users"/],
    [{ url: '127.0.0.1:70000' }, /invalid option "url"/],
    [{ urls: ['127.0.0.1:1'] }, /invalid option "urls".*either url or urls/],
    [
      { protoPath: '/nope/users.proto' },
      /invalid option "protoPath" = "\/nope\/users.proto": file not found/,
    ],
    [{ credentials: undefined }, /invalid option "credentials"/],
    [{ credentials: { insecure: true, tls: {} } }, /invalid option "credentials".*not both/],
    [{ credentials: { tls: { cert: 'x' } } }, /mTLS needs both cert and key/],
    [{ retry: { maxAttempts: 0 } }, /invalid option "retry.maxAttempts" = 0/],
    [
      { retry: { retryOn: ['UNAVAILBLE'] } },
      /invalid option "retry.retryOn" = "UNAVAILBLE": unknown gRPC status name/,
    ],
    [{ retry: { attemptTimeoutMs: 9_000 } }, /"retry.attemptTimeoutMs".*must not exceed timeoutMs/],
    [{ retry: { initialBackoffMs: 50, maxBackoffMs: 10 } }, /"retry.maxBackoffMs"/],
    [{ sise: 3 }, /invalid option "sise" = 3: unknown option/],
    [{ keepalive: { timeMs: 0 } }, /invalid option "keepalive.timeMs" = 0/],
    [{ balancer: { policy: 'random' } }, /invalid option "balancer.policy" = "random"/],
    [{ hedging: { maxAttempts: 9 } }, /invalid option "hedging.maxAttempts" = 9/],
    [
      { breaker: { failureRate: { threshold: 2 } } },
      /invalid option "breaker.failureRate.threshold" = 2/,
    ],
    [{ discovery: { name: 'auth:1' } }, /invalid option "url" = "127.0.0.1:50051".*dns:\/\/\//],
    [
      { url: 'dns:///auth:1', discovery: { refreshIntervalMs: 0 } },
      /invalid option "discovery.refreshIntervalMs" = 0/,
    ],
    [{ size: { min: 3, max: 2 } }, /invalid option "size.max" = 2: must be >= size.min \(3\)/],
  ])('fails the bootstrap on %j, naming the option and the value', async (override, message) => {
    // Declaring the module does not validate yet: creating its provider at bootstrap does.
    const module = GrpcPoolModule.register({ ...base, ...override } as GrpcPoolOptions);
    await expect(Test.createTestingModule({ imports: [module] }).compile()).rejects.toThrow(
      message,
    );
  });

  it('fails the bootstrap on a package the proto files do not define', async () => {
    const compile = Test.createTestingModule({
      imports: [GrpcPoolModule.register({ ...base, package: 'no.such.pkg' })],
    }).compile();
    await expect(compile).rejects.toThrow(
      /invalid option "package" = "no.such.pkg": no such package/,
    );
  });

  it('fails registerAsync at bootstrap on a bad size from the factory', async () => {
    const compile = Test.createTestingModule({
      imports: [
        GrpcPoolModule.registerAsync({ name: 'users', useFactory: () => ({ ...base, size: 0 }) }),
      ],
    }).compile();
    await expect(compile).rejects.toThrow(/GrpcPool "users": invalid option "size" = 0/);
  });

  it('registers several pools, each injectable under its own name', async () => {
    @Injectable()
    class Gateway {
      constructor(
        @InjectGrpcPool('users') readonly users: GrpcPool,
        @InjectGrpcPool('billing') readonly billing: GrpcPool,
      ) {}
    }
    @Module({
      imports: [
        GrpcPoolModule.register({ ...base, name: 'users', size: 2 }),
        GrpcPoolModule.registerAsync({ name: 'billing', useFactory: () => ({ ...base, size: 1 }) }),
      ],
      providers: [Gateway],
    })
    class AppModule {}
    const app = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const gateway = app.get(Gateway);
    expect([gateway.users.name, gateway.users.size]).toEqual(['users', 2]);
    expect([gateway.billing.name, gateway.billing.size]).toEqual(['billing', 1]);
    await app.close();
  });

  it('registerAsync builds the options with a useClass factory', async () => {
    @Injectable()
    class UsersPoolOptions implements GrpcPoolOptionsFactory {
      createGrpcPoolOptions() {
        return { ...base, size: 2 };
      }
    }
    const app = await Test.createTestingModule({
      imports: [GrpcPoolModule.registerAsync({ name: 'users', useClass: UsersPoolOptions })],
    }).compile();
    expect(app.get<GrpcPool>('GRPC_POOL:users').size).toBe(2);
    await app.close();
  });

  it('registerAsync builds the options with an existing factory from an imported module', async () => {
    @Injectable()
    class SharedPoolOptions implements GrpcPoolOptionsFactory {
      createGrpcPoolOptions() {
        return Promise.resolve({ ...base, size: 4 });
      }
    }
    @Module({ providers: [SharedPoolOptions], exports: [SharedPoolOptions] })
    class ConfigLikeModule {}
    const app = await Test.createTestingModule({
      imports: [
        GrpcPoolModule.registerAsync({
          name: 'users',
          imports: [ConfigLikeModule],
          useExisting: SharedPoolOptions,
        }),
      ],
    }).compile();
    expect(app.get<GrpcPool>('GRPC_POOL:users').size).toBe(4);
    await app.close();
  });

  it('registerAsync fails the bootstrap on a bad option from a useClass factory', async () => {
    @Injectable()
    class BadOptions implements GrpcPoolOptionsFactory {
      createGrpcPoolOptions() {
        return { ...base, url: 'nope' };
      }
    }
    await expect(
      Test.createTestingModule({
        imports: [GrpcPoolModule.registerAsync({ name: 'users', useClass: BadOptions })],
      }).compile(),
    ).rejects.toThrow(/GrpcPool "users": invalid option "url" = "nope"/);
  });

  it('registerAsync refuses a declaration with no factory', () => {
    expect(() => GrpcPoolModule.registerAsync({ name: 'users' })).toThrow(
      /give exactly one of useFactory, useClass, useExisting/,
    );
  });

  it('size 1 gives a single connection (GRPC_POOL_SIZE=1)', async () => {
    const app = await Test.createTestingModule({
      imports: [GrpcPoolModule.register({ ...base, size: Number('1') })],
    }).compile();
    expect(app.get<GrpcPool>('GRPC_POOL:users').size).toBe(1);
    await app.close();
  });

  it('rejects an invalid @UsePooledGrpc policy when the class is defined', () => {
    expect(() => UsePooledGrpc('users', { maxAttempts: 0 })).toThrow(
      /"@UsePooledGrpc\(\).maxAttempts" = 0/,
    );
  });
});
