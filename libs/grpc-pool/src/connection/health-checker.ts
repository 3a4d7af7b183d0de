import { credentials, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import type { Logger } from '@nestjs/common';
import type { PoolConnection } from './pool-connection';
import { HEALTH_CHECK_SERVICE } from './health-proto';

/** Codes that mean the server was not reached (anything else is an answer from it). */
const NO_ANSWER = new Set<number>([status.DEADLINE_EXCEEDED, status.UNAVAILABLE, status.CANCELLED]);

/** @internal */
export interface HealthCheckSettings {
  /** Periodic checks of healthy connections; false: probes of ejected ones only. */
  periodic: { intervalMs: number; service: string; timeoutMs: number } | false;
  /** Deadline of a recovery probe. */
  probeTimeoutMs: number;
}

/**
 * Probes connections with `grpc.health.v1.Health/Check`.
 * - Recovery: an ejected connection is probed once its ejection ends; only an answer closes its
 *   circuit (user calls never serve as probes, so none hangs on a frozen backend). Without
 *   configured health checks any answer counts, UNIMPLEMENTED included (the server is alive);
 *   with them, only SERVING.
 * - Periodic (`healthCheck` option): a healthy connection that does not answer SERVING is ejected
 *   before a user call fails on it.
 * Reads the pool's current connections each time. @internal
 */
export class HealthChecker {
  private timer?: NodeJS.Timeout;
  private readonly probes = new Map<PoolConnection, NodeJS.Timeout>();
  private readonly clients = new WeakMap<PoolConnection, Client>();
  private stopped = false;

  constructor(
    private readonly connections: () => readonly PoolConnection[],
    private readonly settings: HealthCheckSettings,
    private readonly logger: Logger,
  ) {}

  start(): void {
    const periodic = this.settings.periodic;
    if (this.timer || !periodic || this.stopped) return;
    void this.checkAll();
    this.timer = setInterval(() => void this.checkAll(), periodic.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    for (const t of this.probes.values()) clearTimeout(t);
    this.probes.clear();
  }

  /** Schedules the recovery probe of an ejected connection. */
  scheduleProbe(connection: PoolConnection): void {
    if (this.stopped || this.probes.has(connection)) return;
    const timer = setTimeout(() => {
      this.probes.delete(connection);
      void this.recover(connection);
    }, connection.breaker.msUntilProbe);
    timer.unref();
    this.probes.set(connection, timer);
  }

  /** One check of `connection` (a new address's, before its first call): SERVING or not. */
  serving(connection: PoolConnection): Promise<boolean> {
    return this.answers(connection, true);
  }

  /** Checks every healthy connection once. */
  async checkAll(): Promise<void> {
    await Promise.all(this.connections().map((c) => this.checkHealthy(c)));
  }

  private async checkHealthy(connection: PoolConnection): Promise<void> {
    if (!connection.breaker.closed || connection.isClosed) return;
    if (await this.answers(connection, true)) return;
    if (connection.breaker.eject('health_check'))
      this.logger.warn(`connection ${connection.index} failed its health check`);
  }

  private async recover(connection: PoolConnection): Promise<void> {
    if (this.stopped || connection.isClosed || !this.connections().includes(connection)) return;
    if (!connection.breaker.startProbe()) {
      if (connection.breaker.current === 'open') this.scheduleProbe(connection);
      return;
    }
    connection.breaker.probeResult(
      await this.answers(connection, this.settings.periodic !== false),
    );
  }

  private answers(connection: PoolConnection, needServing: boolean): Promise<boolean> {
    let client = this.clients.get(connection);
    if (!client) {
      client = new HEALTH_CHECK_SERVICE(connection.target, credentials.createInsecure(), {
        channelOverride: connection.channel,
      });
      this.clients.set(connection, client);
    }
    const periodic = this.settings.periodic;
    const timeoutMs = periodic ? periodic.timeoutMs : this.settings.probeTimeoutMs;
    return new Promise<boolean>((resolve) => {
      (client as unknown as { check: Function }).check(
        { service: periodic ? periodic.service : '' },
        new Metadata(),
        { deadline: Date.now() + timeoutMs },
        (error: ServiceError | null, response?: { status?: string }) => {
          if (error) resolve(!needServing && !NO_ANSWER.has(error.code));
          else
            resolve(
              response?.status === 'SERVING' ||
                (!needServing && response?.status !== 'NOT_SERVING'),
            );
        },
      );
    });
  }
}
