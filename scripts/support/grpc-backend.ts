import {
  Server,
  ServerCredentials,
  loadPackageDefinition,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { join } from 'node:path';

/** The test service's proto file. */
export const ECHO_PROTO = join(__dirname, 'echo.proto');

interface PingRequest {
  id: string;
  delayMs: number;
  delayAttempts: number;
  failCode: number;
  failAttempts: number;
}

const definition = loadPackageDefinition(loadSync(ECHO_PROTO, { defaults: true })) as unknown as {
  echo: { v1: { EchoService: ServiceClientConstructor } };
};
const health = loadPackageDefinition(
  // The standard grpc.health.v1 service, the same file the sample apps serve.
  loadSync(join(__dirname, '..', '..', 'apps', 'proto', 'health.proto'), {
    defaults: true,
    enums: String,
  }),
) as unknown as { grpc: { health: { v1: { Health: ServiceClientConstructor } } } };

/**
 * A real grpc-js server on loopback implementing `echo.v1.EchoService` and
 * `grpc.health.v1.Health`. It records the peers (client ip:port) it served, and attempts per id.
 */
export class EchoBackend {
  /** Calls served per client peer (`ip:port`): one peer = one HTTP/2 connection. */
  readonly peers = new Map<string, number>();
  /** Attempts per request id. */
  readonly attempts = new Map<string, number>();
  /** `:authority` of the calls served. */
  readonly authorities = new Set<string>();
  calls = 0;
  serving: 'SERVING' | 'NOT_SERVING' = 'SERVING';
  /** Added to every Ping (a slow backend). */
  extraDelayMs = 0;
  /** Random latency spikes: this share of Pings waits `ms` more. */
  spikes = { rate: 0, ms: 0 };
  private server?: Server;

  constructor(
    readonly name: string,
    private readonly credentials: ServerCredentials = ServerCredentials.createInsecure(),
    public port = 0,
    /** Loopback address to bind (Linux answers all of 127/8: one backend per address). */
    readonly host = '127.0.0.1',
    /** grpc-js server options, e.g. `{ 'grpc.max_concurrent_streams': 8 }`. */
    private readonly serverOptions: Record<string, number> = {},
  ) {}

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  async start(): Promise<void> {
    const server = new Server(this.serverOptions);
    server.addService(definition.echo.v1.EchoService.service, {
      ping: (call: ServerUnaryCall<PingRequest, unknown>, callback: sendUnaryData<unknown>) =>
        this.ping(call, callback),
      count: (call: ServerWritableStream<{ count: number }, unknown>) => {
        for (let i = 0; i < call.request.count; i++)
          call.write({ id: String(i), server: this.name, peer: call.getPeer() });
        call.end();
      },
    });
    server.addService(health.grpc.health.v1.Health.service, {
      check: (_call: unknown, callback: sendUnaryData<unknown>) =>
        callback(null, { status: this.serving }),
    });
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${this.host}:${this.port}`, this.credentials, (error, port) =>
        error ? reject(error) : resolve(port),
      ),
    );
    this.server = server;
  }

  /** Graceful stop: GOAWAY to every client, calls in flight finish, then the server closes. */
  shutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    return new Promise((resolve) => (server ? server.tryShutdown(() => resolve()) : resolve()));
  }

  /** Kills the server: closes the listener and every connection at once (a crashed backend). */
  kill(): void {
    this.server?.forceShutdown();
    this.server = undefined;
  }

  private ping(
    call: ServerUnaryCall<PingRequest, unknown>,
    callback: sendUnaryData<unknown>,
  ): void {
    this.calls++;
    this.authorities.add(call.getHost());
    const peer = call.getPeer();
    this.peers.set(peer, (this.peers.get(peer) ?? 0) + 1);
    const request = call.request;
    const attempt = (this.attempts.get(request.id) ?? 0) + 1;
    this.attempts.set(request.id, attempt);
    const reply = { id: request.id, server: this.name, peer, attempt };
    if (request.failCode && (request.failAttempts === 0 || attempt <= request.failAttempts)) {
      callback({ code: request.failCode as status, details: `injected failure on ${this.name}` });
      return;
    }
    let delay = this.extraDelayMs;
    if (this.spikes.rate > 0 && Math.random() < this.spikes.rate) delay += this.spikes.ms;
    if (request.delayMs && (request.delayAttempts === 0 || attempt <= request.delayAttempts))
      delay += request.delayMs;
    if (delay > 0) {
      setTimeout(() => callback(null, reply), delay);
      return;
    }
    callback(null, reply);
  }
}

/** The client-side shape of the echo service as the pool exposes it. */
export interface EchoClient {
  ping(
    request: Partial<PingRequest>,
    options?: import('@nest-resilience/grpc-pool').PooledCallOptions,
  ): Promise<{ id: string; server: string; peer: string; attempt: number }>;
}

/**
 * Channel options of the grpc-js baseline the benchmarks compare with: its own `round_robin` over
 * every backend address and a `retryPolicy` on UNAVAILABLE (what a user would otherwise run).
 */
export const ROUND_ROBIN_WITH_RETRIES = {
  'grpc.service_config': JSON.stringify({
    loadBalancingConfig: [{ round_robin: {} }],
    methodConfig: [
      {
        name: [{ service: 'echo.v1.EchoService' }],
        retryPolicy: {
          maxAttempts: 3,
          initialBackoff: '0.01s',
          maxBackoff: '0.1s',
          backoffMultiplier: 2,
          retryableStatusCodes: ['UNAVAILABLE'],
        },
      },
    ],
  }),
};
