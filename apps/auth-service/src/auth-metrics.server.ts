import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { createServer, type Server } from 'node:http';
import { AUTH_SERVICE_CONFIG } from './auth.constants';
import type { AuthServiceConfig } from './auth-service.env';
import { AuthMetrics } from './auth.metrics';

/**
 * `GET /metrics` (Prometheus text) on AUTH_METRICS_PORT of the gRPC bind address; nothing when
 * the variable is unset. Plain `node:http`: this process has no HTTP framework otherwise.
 */
@Injectable()
export class AuthMetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private server?: Server;

  constructor(
    @Inject(AUTH_SERVICE_CONFIG) private readonly config: AuthServiceConfig,
    private readonly metrics: AuthMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const port = this.config.metricsPort;
    if (port === undefined) return;
    const host = this.config.grpcUrl.slice(0, this.config.grpcUrl.lastIndexOf(':'));
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      void this.metrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host.replace(/^\[(.*)\]$/, '$1'), () => resolve());
    });
    this.server = server;
    new Logger(this.config.instance).log(`metrics on http://${host}:${port}/metrics`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
