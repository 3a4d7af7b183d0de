/** The app's own `ScheduleModule.forRoot()`: the TTL sweep must join its `SchedulerRegistry`. */
import type { INestMicroservice } from '@nestjs/common';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { DEDUP_CLEANUP_JOB } from '@nest-resilience/kafka-dedup';

export const extraImports = [ScheduleModule.forRoot()];

/** Whether the TTL sweep joined the app's `SchedulerRegistry`. */
export function sweepInRegistry(app: INestMicroservice): boolean | null {
  return app.get(SchedulerRegistry).doesExist('cron', DEDUP_CLEANUP_JOB);
}
