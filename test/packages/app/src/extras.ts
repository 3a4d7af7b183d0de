/**
 * What the app adds around the libraries. This default has no `@nestjs/schedule` (an optional peer:
 * the TTL sweep then runs on its own timer); the harness swaps in extras/with-schedule.ts for the
 * apps that install it.
 */
import type { INestMicroservice } from '@nestjs/common';

export const extraImports: never[] = [];

/** Whether the TTL sweep joined the app's `SchedulerRegistry` (null: the app has none). */
export function sweepInRegistry(_app: INestMicroservice): boolean | null {
  return null;
}
