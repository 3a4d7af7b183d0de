import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import type { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { DEDUP_CLEANUP_JOB, DEDUP_RESOLVED_OPTIONS } from './dedup.constants';
import type { ResolvedDedupOptions } from './dedup.options';
import { DedupService } from './dedup.service';
import { loadOptionalPeer } from './dedup.peers';

/**
 * `@nestjs/schedule` is an optional peer: an app with `ScheduleModule.forRoot()` has it installed,
 * and only then is there a registry to join. Without it: a token nobody provides (injected as null).
 */
const SCHEDULER_REGISTRY: typeof SchedulerRegistry | symbol =
  loadOptionalPeer<typeof import('@nestjs/schedule')>('@nestjs/schedule')?.SchedulerRegistry ??
  Symbol('kafka-dedup:no-scheduler-registry');

/**
 * Runs the TTL sweep on the `cleanupCron` schedule (an option, so `@Cron()` cannot be used).
 * With the app's `ScheduleModule.forRoot()` the job is registered in its `SchedulerRegistry` as
 * `kafka-dedup:ttl-sweep`; the module never calls `forRoot()` itself (a second scheduler would
 * run the app's own `@Cron()` jobs twice). Without it the same cron job runs on an unref'd timer
 * (it never keeps the process alive). Removed at shutdown either way. @internal
 */
@Injectable()
export class DedupCleanupScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('KafkaDedup');
  private job?: CronJob;

  private registered = false;

  constructor(
    @Optional() @Inject(SCHEDULER_REGISTRY) private readonly registry: SchedulerRegistry | null,
    private readonly dedup: DedupService,
    @Inject(DEDUP_RESOLVED_OPTIONS) private readonly options: ResolvedDedupOptions,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.cleanupCron === false || !this.options.enabled) return;
    if (this.registry?.doesExist('cron', DEDUP_CLEANUP_JOB)) {
      this.logger.warn(
        `a job named ${DEDUP_CLEANUP_JOB} is already registered; not adding another`,
      );
      return;
    }
    this.job = CronJob.from({
      cronTime: this.options.cleanupCron,
      onTick: () => this.sweep(),
      start: false,
      unrefTimeout: true,
    });
    if (this.registry) {
      this.registry.addCronJob(DEDUP_CLEANUP_JOB, this.job as never);
      this.registered = true;
    }
    this.job.start();
  }

  /** Whether the sweep is registered in the app's `SchedulerRegistry` (else on its own timer). */
  get inRegistry(): boolean {
    return this.registered;
  }

  onApplicationShutdown(): void {
    if (this.registered && this.registry?.doesExist('cron', DEDUP_CLEANUP_JOB)) {
      this.registry.deleteCronJob(DEDUP_CLEANUP_JOB);
    }
    void this.job?.stop();
    this.job = undefined;
    this.registered = false;
  }

  private async sweep(): Promise<void> {
    try {
      const { removed, durationMs, maxPauseMs } = await this.dedup.cleanup();
      if (removed > 0) {
        this.logger.debug(
          `swept ${removed} expired ids in ${durationMs.toFixed(1)} ms (longest pause ${maxPauseMs.toFixed(2)} ms)`,
        );
      }
    } catch (error) {
      this.logger.warn(`TTL sweep failed: ${(error as Error).message}`);
    }
  }
}
