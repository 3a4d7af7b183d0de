import { Injectable, Module } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import { DEDUP_CLEANUP_JOB } from './dedup.constants';
import { DedupModule } from './dedup.module';
import { DedupService } from './dedup.service';
import type { DedupModuleOptions } from './interfaces/dedup-options.interface';
import { DedupStore } from './stores/dedup.store';
import { MemoryDedupStore } from './stores/memory.store';

async function boot(options: DedupModuleOptions) {
  const moduleRef = await Test.createTestingModule({
    imports: [DedupModule.forRoot(options)],
  }).compile();
  return moduleRef;
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

  it('registers the TTL sweep at bootstrap and removes it at shutdown', async () => {
    const moduleRef = await boot({ cleanupCron: '*/5 * * * * *' });
    const app = await moduleRef.init();
    const registry = moduleRef.get(SchedulerRegistry);
    const job = registry.getCronJob(DEDUP_CLEANUP_JOB);
    expect(job.isActive).toBe(true);
    await app.close();
    expect(registry.doesExist('cron', DEDUP_CLEANUP_JOB)).toBe(false);
  });

  it('registers no job with cleanupCron: false', async () => {
    const moduleRef = await boot({ cleanupCron: false });
    await moduleRef.init();
    expect(moduleRef.get(SchedulerRegistry).doesExist('cron', DEDUP_CLEANUP_JOB)).toBe(false);
    await moduleRef.close();
  });
});
