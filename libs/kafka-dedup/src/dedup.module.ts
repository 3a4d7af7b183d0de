import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import { DedupGlobalInterceptor } from './dedup-global.interceptor';
import { DEDUP_RESOLVED_OPTIONS } from './dedup.constants';
import { DedupHealthIndicator } from './dedup.health';
import { DedupInterceptor } from './dedup.interceptor';
import { DedupMetrics, dedupMetricProviders } from './dedup.metrics';
import { DEDUP_MODULE_OPTIONS, DedupConfigurableModule } from './dedup.module-definition';
import { resolveDedupOptions, type ResolvedDedupOptions } from './dedup.options';
import { DedupCleanupScheduler } from './dedup.scheduler';
import { DedupService } from './dedup.service';
import type { DedupModuleOptions } from './interfaces/dedup-options.interface';
import { DedupStore } from './stores/dedup.store';
import { MemoryDedupStore } from './stores/memory.store';
import { RedisDedupStore } from './stores/redis.store';

/**
 * Effectively-once processing for Kafka handlers.
 *
 * @example
 * DedupModule.forRoot({ store: 'redis', group: 'user-service', key: { from: 'header', name: 'x-event-id' } })
 * DedupModule.forRootAsync({ imports: [ConfigModule], inject: [ConfigService], useFactory: (c) => ({ ttl: c.get('DEDUP_TTL') }) })
 */
@Module({
  imports: [ScheduleModule.forRoot(), TerminusModule],
  providers: [
    {
      provide: DEDUP_RESOLVED_OPTIONS,
      inject: [DEDUP_MODULE_OPTIONS],
      useFactory: (options: DedupModuleOptions) => resolveDedupOptions(options),
    },
    {
      provide: DedupStore,
      inject: [DEDUP_RESOLVED_OPTIONS],
      useFactory: (options: ResolvedDedupOptions): DedupStore => {
        if (options.store === 'memory') return new MemoryDedupStore(options.maxEntries);
        if (options.store === 'redis') return new RedisDedupStore(options.redis);
        return options.store;
      },
    },
    ...dedupMetricProviders,
    DedupMetrics,
    DedupService,
    DedupInterceptor,
    DedupCleanupScheduler,
    DedupHealthIndicator,
    { provide: APP_INTERCEPTOR, useClass: DedupGlobalInterceptor },
  ],
  exports: [
    DedupService,
    DedupStore,
    DedupInterceptor,
    DedupMetrics,
    DedupHealthIndicator,
    DEDUP_RESOLVED_OPTIONS,
  ],
})
export class DedupModule extends DedupConfigurableModule {}
