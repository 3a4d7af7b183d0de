import { Injectable, Module } from '@nestjs/common';
import { ApplicationConfig } from '@nestjs/core';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import { DEDUP_CLEANUP_JOB } from './dedup.constants';
import { DedupGlobalInterceptor } from './dedup-global.interceptor';
import { DedupModule } from './dedup.module';
import { DedupService } from './dedup.service';
import type { DedupModuleOptions } from './dedup.options';
import { DedupStore } from './stores/dedup.store';
import { MemoryDedupStore } from './stores/memory/memory.store';

async function boot(options: DedupModuleOptions, withSchedule = false) {
  const moduleRef = await Test.createTestingModule({
    imports: [...(withSchedule ? [ScheduleModule.forRoot()] : []), DedupModule.forRoot(options)],
  }).compile();
  return moduleRef;
}

/** The global interceptors of an app built from `imports`. */
async function globalInterceptors(imports: unknown[]): Promise<unknown[]> {
  const moduleRef = await Test.createTestingModule({ imports: imports as never[] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  const interceptors = app.get(ApplicationConfig).getGlobalInterceptors();
  await app.close();
  return interceptors;
}

describe('DedupModule', () => {
  beforeEach(() => register.clear());

  it.each([
    [{ ttl: -1 }, /invalid option "ttl" = -1/],
    [{ maxEntries: 0 }, /invalid option "maxEntries" = 0/],
    [
      { cleanupCron: 'every tuesday' },
      /invalid option "cleanupCron" = "every tuesday": not a valid cron expression/,
    ],
    [{ key: { from: 'body' } }, /invalid option "key.from" = "body": unknown key source/],
    [{ key: { from: 'value', path: [] } }, /invalid option "key.path"/],
    [
      { onStoreError: 'ignore' },
      /invalid option "onStoreError" = "ignore": expected one of "process", "throw"/,
    ],
    [{ tll: 1000 }, /invalid option "tll".*unknown option/],
    [
      { redis: { url: 'redis://127.0.0.1:6379' } },
      /invalid option "redis".*only meaningful with store: "redis"/,
    ],
  ])('fails the bootstrap on %j, naming the option', async (options, message) => {
    await expect(boot(options as DedupModuleOptions)).rejects.toThrow(message);
  });

  it('builds the options with forRootAsync + useFactory + inject', async () => {
    @Injectable()
    class Settings {
      readonly ttlSeconds = 0;
    }
    @Module({ providers: [Settings], exports: [Settings] })
    class SettingsModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        DedupModule.forRootAsync({
          imports: [SettingsModule],
          inject: [Settings],
          useFactory: (s: Settings) => ({ ttl: s.ttlSeconds * 1000 }),
        }),
      ],
    }).compile();
    expect(moduleRef.get(DedupService).enabled).toBe(false);
  });

  it('builds the options with forRootAsync + useClass', async () => {
    class Factory {
      create(): DedupModuleOptions {
        return { maxEntries: 10 };
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [DedupModule.forRootAsync({ useClass: Factory })],
    }).compile();
    expect(moduleRef.get(DedupStore)).toBeInstanceOf(MemoryDedupStore);
  });

  it('makes the deduplicator injectable everywhere with isGlobal', async () => {
    @Injectable()
    class Consumer {
      constructor(readonly dedup: DedupService) {}
    }
    @Module({ providers: [Consumer] })
    class FeatureModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [DedupModule.forRoot({ isGlobal: true }), FeatureModule],
    }).compile();
    expect(moduleRef.get(Consumer).dedup).toBeInstanceOf(DedupService);
  });

  it('uses a custom store given as an instance', async () => {
    const store = new MemoryDedupStore(5);
    const moduleRef = await boot({ store });
    expect(moduleRef.get(DedupStore)).toBe(store);
  });

  it("registers the TTL sweep in the app's SchedulerRegistry at bootstrap and removes it at shutdown", async () => {
    const moduleRef = await boot({ cleanupCron: '*/5 * * * * *' }, true);
    const app = await moduleRef.init();
    const registry = moduleRef.get(SchedulerRegistry);
    const job = registry.getCronJob(DEDUP_CLEANUP_JOB);
    expect(job.isActive).toBe(true);
    await app.close();
    expect(registry.doesExist('cron', DEDUP_CLEANUP_JOB)).toBe(false);
  });

  it('registers no job with cleanupCron: false', async () => {
    const moduleRef = await boot({ cleanupCron: false }, true);
    await moduleRef.init();
    expect(moduleRef.get(SchedulerRegistry).doesExist('cron', DEDUP_CLEANUP_JOB)).toBe(false);
    await moduleRef.close();
  });

  it('brings no scheduler of its own: SchedulerRegistry comes only from the app', async () => {
    const moduleRef = await boot({ cleanupCron: false });
    expect(() => moduleRef.get(SchedulerRegistry, { strict: false })).toThrow(/SchedulerRegistry/);
  });

  it('runs the sweep on its own timer when the app has no ScheduleModule.forRoot()', async () => {
    const moduleRef = await boot({ cleanupCron: '* * * * * *' });
    const cleanup = jest.spyOn(moduleRef.get(DedupService), 'cleanup');
    const app = await moduleRef.init();
    const deadline = Date.now() + 2_500;
    while (cleanup.mock.calls.length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(cleanup).toHaveBeenCalled();
    await app.close();
    const calls = cleanup.mock.calls.length;
    await new Promise((r) => setTimeout(r, 1_100));
    expect(cleanup.mock.calls.length).toBe(calls); // stopped at shutdown
  });

  it('registers the global interceptor only with applyToAllHandlers: true', async () => {
    const isDedup = (i: unknown) => i instanceof DedupGlobalInterceptor;
    expect(
      (await globalInterceptors([DedupModule.forRoot({ cleanupCron: false })])).some(isDedup),
    ).toBe(false);
    expect(
      (
        await globalInterceptors([
          DedupModule.forRoot({ cleanupCron: false, applyToAllHandlers: true }),
        ])
      ).some(isDedup),
    ).toBe(true);
    expect(
      (
        await globalInterceptors([
          DedupModule.forRootAsync({
            applyToAllHandlers: true,
            useFactory: () => ({ cleanupCron: false }),
          }),
        ])
      ).some(isDedup),
    ).toBe(true);
  });

  it('fails the bootstrap when a forRootAsync factory returns applyToAllHandlers, naming where it goes', async () => {
    await expect(
      Test.createTestingModule({
        imports: [DedupModule.forRootAsync({ useFactory: () => ({ applyToAllHandlers: true }) })],
      }).compile(),
    ).rejects.toThrow(/invalid option "applyToAllHandlers" = true: must be given to forRootAsync/);
  });
});
