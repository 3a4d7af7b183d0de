import { credentials, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import type { Logger } from '@nestjs/common';
import type { PoolConnection } from './pool-connection';
import { HEALTH_CHECK_SERVICE } from './health-proto';

/**
 * Active health checks with the standard `grpc.health.v1.Health/Check` on every connection: a
 * connection that answers anything but SERVING is ejected before a user call fails on it; one
 * that answers SERVING again is closed (healthy). @internal
 */
export class HealthChecker {
  private timer?: NodeJS.Timeout;
  private readonly clients = new Map<PoolConnection, Client>();

  constructor(
    private connections: PoolConnection[],
    private readonly options: { intervalMs: number; service: string; timeoutMs: number },
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.timer) return;
    void this.checkAll();
    this.timer = setInterval(() => void this.checkAll(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  replace(old: PoolConnection, fresh: PoolConnection): void {
    this.clients.delete(old);
    this.connections = this.connections.map((c) => (c === old ? fresh : c));
  }

  /** Checks every connection once. */
  async checkAll(): Promise<void> {
    await Promise.all(this.connections.map((c) => this.check(c)));
  }

  private async check(connection: PoolConnection): Promise<void> {
    let client = this.clients.get(connection);
    if (!client) {
      client = new HEALTH_CHECK_SERVICE(connection.target, credentials.createInsecure(), {
        channelOverride: connection.channel,
      });
      this.clients.set(connection, client);
    }
    const serving = await new Promise<boolean>((resolve) => {
      (client as unknown as { check: Function }).check(
        { service: this.options.service },
        new Metadata(),
        { deadline: Date.now() + this.options.timeoutMs },
        (error: ServiceError | null, response?: { status?: string }) =>
          resolve(!error && response?.status === 'SERVING'),
      );
    });
    if (serving) {
      if (connection.breaker.current !== 'closed') connection.breaker.success();
    } else if (connection.breaker.current === 'closed') {
      this.logger.warn(`connection ${connection.index} failed its health check`);
      connection.breaker.eject();
    }
  }
}
