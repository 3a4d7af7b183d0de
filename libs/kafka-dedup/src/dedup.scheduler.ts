import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { DEDUP_CLEANUP_JOB, DEDUP_RESOLVED_OPTIONS } from './dedup.constants';
import type { ResolvedDedupOptions } from './dedup.options';
import { DedupService } from './dedup.service';

/**
 * Registers the TTL sweep in `SchedulerRegistry` as `kafka-dedup:ttl-sweep` at bootstrap (the cron
 * expression is an option, so `@Cron()` cannot be used) and removes it at shutdown. @internal
 */
@Injectable()
export class DedupCleanupScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('KafkaDedup');
  private job?: CronJob;

  constructor(
    private readonly registry: SchedulerRegistry,
    private readonly dedup: DedupService,
    @Inject(DEDUP_RESOLVED_OPTIONS) private readonly options: ResolvedDedupOptions,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.cleanupCron === false || !this.options.enabled) return;
    if (this.registry.doesExist('cron', DEDUP_CLEANUP_JOB)) {
      this.logger.warn(
        `a job named ${DEDUP_CLEANUP_JOB} is already registered; not adding another`,
      );
      return;
    }
    this.job = CronJob.from({
      cronTime: this.options.cleanupCron,
      onTick: () => this.sweep(),
      start: false,
    });
    this.registry.addCronJob(DEDUP_CLEANUP_JOB, this.job as never);
    this.job.start();
  }

  onApplicationShutdown(): void {
    if (this.job && this.registry.doesExist('cron', DEDUP_CLEANUP_JOB)) {
      this.registry.deleteCronJob(DEDUP_CLEANUP_JOB);
    }
    this.job = undefined;
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
