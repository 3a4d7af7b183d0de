import { ConfigurableModuleBuilder, type Provider } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { DedupGlobalInterceptor } from './dedup-global.interceptor';
import { DEDUP_APPLY_TO_ALL } from './dedup.constants';
import type { DedupModuleOptions } from './dedup.options';

/** @internal */
export const {
  ConfigurableModuleClass: DedupConfigurableModule,
  MODULE_OPTIONS_TOKEN: DEDUP_MODULE_OPTIONS,
  OPTIONS_TYPE: DEDUP_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: DEDUP_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<DedupModuleOptions>({ moduleName: 'KafkaDedup' })
  .setClassMethodName('forRoot')
  // `applyToAllHandlers` decides which providers exist, so it is known when the module is
  // declared: an option of forRoot(), a top-level property of forRootAsync().
  .setExtras({ isGlobal: false, applyToAllHandlers: false }, (definition, extras) => {
    const applyToAll = extras.applyToAllHandlers === true;
    const providers: Provider[] = [
      ...(definition.providers ?? []),
      { provide: DEDUP_APPLY_TO_ALL, useValue: applyToAll },
    ];
    if (applyToAll) providers.push({ provide: APP_INTERCEPTOR, useClass: DedupGlobalInterceptor });
    return { ...definition, global: extras.isGlobal, providers };
  })
  .build();
