import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { UserServiceConfig } from '../config/user-service.env';

/**
 * Test hook for the liveness probe, off unless `DEBUG_EVENT_LOOP_STALL_MS` > 0: then SIGUSR2
 * busy-loops the event loop for that many ms, which is what a process stuck in a synchronous
 * loop looks like from outside (`kill -USR2 <pid>`, then `/health/live` does not answer). A
 * signal rather than an HTTP route: nothing reachable over the network can stall the process.
 */
@Injectable()
export class EventLoopStallHook implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('EventLoopStallHook');
  private readonly stallMs: number;
  private readonly onSignal = (): void => this.stall();

  constructor(config: ConfigService<UserServiceConfig, true>) {
    this.stallMs = config.get('debugEventLoopStallMs', { infer: true });
  }

  onApplicationBootstrap(): void {
    if (this.stallMs <= 0) return;
    process.on('SIGUSR2', this.onSignal);
    this.logger.warn(
      `DEBUG_EVENT_LOOP_STALL_MS=${this.stallMs}: SIGUSR2 blocks the event loop (tests only)`,
    );
  }

  onApplicationShutdown(): void {
    process.off('SIGUSR2', this.onSignal);
  }

  private stall(): void {
    this.logger.warn(`SIGUSR2: blocking the event loop for ${this.stallMs} ms`);
    const until = Date.now() + this.stallMs;
    while (Date.now() < until) {
      // deliberately synchronous: nothing else runs until it ends
    }
    this.logger.warn('event loop released');
  }
}
