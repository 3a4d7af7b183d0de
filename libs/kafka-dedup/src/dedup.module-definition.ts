import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { DedupModuleOptions } from './interfaces/dedup-options.interface';

/** @internal */
export const {
  ConfigurableModuleClass: DedupConfigurableModule,
  MODULE_OPTIONS_TOKEN: DEDUP_MODULE_OPTIONS,
  OPTIONS_TYPE: DEDUP_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: DEDUP_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<DedupModuleOptions>({ moduleName: 'KafkaDedup' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
