import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { DEDUP_APPLY_TO_ALL, DEDUP_RESOLVED_OPTIONS } from './dedup.constants';
import { DedupHealthIndicator } from './dedup.health';
import { DedupInterceptor } from './dedup.interceptor';
import { DedupMetrics } from './dedup.metrics';
import { DEDUP_MODULE_OPTIONS, DedupConfigurableModule } from './dedup.module-definition';
import {
  checkApplyToAllHandlers,
  resolveDedupOptions,
  type ResolvedDedupOptions,
} from './dedup.options';
import { DedupRunner } from './dedup.runner';
import { DedupCleanupScheduler } from './dedup.scheduler';
import { DedupService } from './dedup.service';
import type { DedupModuleOptions } from './dedup.options';
import { DedupStore } from './stores/dedup.store';
import { MemoryDedupStore } from './stores/memory/memory.store';
import { InboxTransaction } from './stores/postgres/inbox.context';
import { PostgresInboxStore } from './stores/postgres/postgres-inbox.store';
import { RedisDedupStore } from './stores/redis/redis.store';
import { DedupWindow } from './dedup.window';

/**
 * Effectively-once processing for Kafka handlers.
 *
 * App-wide decisions stay with the app: the TTL sweep joins the app's `ScheduleModule.forRoot()`
 * when there is one (else it runs on its own unref'd timer), and the global interceptor is only
 * registered with `applyToAllHandlers: true`.
 *
 * @example
 * DedupModule.forRoot({ store: 'redis', group: 'user-service', key: { from: 'header', name: 'x-event-id' } })
 * DedupModule.forRootAsync({ imports: [ConfigModule], inject: [ConfigService], useFactory: (c) => ({ ttl: c.get('DEDUP_TTL') }) })
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: DEDUP_RESOLVED_OPTIONS,
      inject: [DEDUP_MODULE_OPTIONS, DEDUP_APPLY_TO_ALL],
      useFactory: (options: DedupModuleOptions, applyToAll: boolean) =>
        resolveDedupOptions({
          ...options,
          applyToAllHandlers: checkApplyToAllHandlers(options.applyToAllHandlers, applyToAll),
        }),
    },
    {
      provide: DedupStore,
      inject: [DEDUP_RESOLVED_OPTIONS],
      useFactory: (options: ResolvedDedupOptions): DedupStore => {
        if (options.store === 'memory')
          return new MemoryDedupStore(options.maxEntries, Date.now, options.memory);
        if (options.store === 'redis')
          return new RedisDedupStore(options.redis, redisWindow(options));
        if (options.store === 'postgres') return new PostgresInboxStore(options.postgres!);
        return options.store;
      },
    },
    DedupMetrics,
    DedupService,
    DedupRunner,
    DedupInterceptor,
    DedupCleanupScheduler,
    DedupHealthIndicator,
    InboxTransaction,
    DedupWindow,
  ],
  exports: [
    DedupService,
    DedupStore,
    DedupInterceptor,
    DedupMetrics,
    DedupHealthIndicator,
    InboxTransaction,
    DedupWindow,
    DEDUP_RESOLVED_OPTIONS,
  ],
})
export class DedupModule extends DedupConfigurableModule {}

/** The longest TTL the store will be given: the Redis store's `v2` buckets follow it. */
function redisWindow(options: ResolvedDedupOptions): number {
  return Math.max(options.ttl, options.window.adaptiveTtl?.max ?? 0);
}
