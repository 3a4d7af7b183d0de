/**
 * The clients bench:discovery compares, each calling `echo.v1.EchoService/Ping` on one DNS name:
 * the pool with discovery, grpc-js `round_robin` (its resolver asking the DNS server named in the
 * target: needs GRPC_NODE_USE_ALTERNATIVE_RESOLVER=true), and the pool without discovery.
 */
import {
  credentials,
  loadPackageDefinition,
  type Client,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  GrpcPoolModule,
  getGrpcPoolToken,
  type GrpcPool,
  type GrpcPoolOptions,
} from '@nest-resilience/grpc-pool';
import { ECHO_PROTO, ROUND_ROBIN_WITH_RETRIES, type EchoClient } from '../support/grpc-backend';
import type { Call } from './discovery.load';

export type Kind = 'pool' | 'roundRobin' | 'staticPool';

export interface BenchClient {
  call: Call;
  close(): void;
  /** Connections per address (the pools only). */
  perAddress?(): number[];
}

export interface ClientSettings {
  host: string;
  port: number;
  /** `ip:port` of the DNS server. */
  dnsServer: string;
  refreshMs: number;
  size: GrpcPoolOptions['size'];
  policy: 'peak-ewma' | 'round-robin';
}

const EchoService = (
  loadPackageDefinition(loadSync(ECHO_PROTO)) as unknown as {
    echo: { v1: { EchoService: ServiceClientConstructor } };
  }
).echo.v1.EchoService;
let pools = 0;

/** A connected client of `kind` (a pool waits for its first resolution). */
export async function benchClient(kind: Kind, s: ClientSettings): Promise<BenchClient> {
  if (kind === 'roundRobin') return roundRobin(s);
  const name = `${kind}-${++pools}`;
  // Through the module, as an app builds it (its provider waits for the first resolution and
  // connects at bootstrap).
  @Module({
    imports: [
      GrpcPoolModule.register({
        name,
        package: 'echo.v1',
        protoPath: ECHO_PROTO,
        credentials: { insecure: true },
        size: s.size,
        balancer: { policy: s.policy },
        ...(kind === 'pool'
          ? {
              url: `dns:///${s.host}:${s.port}`,
              discovery: { servers: [s.dnsServer], refreshIntervalMs: s.refreshMs },
            }
          : { url: `dns://${s.dnsServer}/${s.host}:${s.port}`, discovery: false }),
      }),
    ],
  })
  class ClientModule {}
  const app = await NestFactory.createApplicationContext(ClientModule, { logger: false });
  const pool = app.get<GrpcPool>(getGrpcPoolToken(name));
  const echo = pool.getService<EchoClient>('EchoService');
  return {
    call: (id, delayMs) => echo.ping({ id, delayMs }, { deadline: 5_000 }),
    close: () => void app.close(),
    perAddress: () => pool.healthReport().endpoints?.map((e) => e.connections) ?? [],
  };
}

/** grpc-js round_robin over every address of the name, with a retryPolicy as in bench:grpc. */
function roundRobin(s: ClientSettings): BenchClient {
  const c: Client = new EchoService(
    `dns://${s.dnsServer}/${s.host}:${s.port}`,
    credentials.createInsecure(),
    ROUND_ROBIN_WITH_RETRIES,
  );
  const ping = (c as unknown as { ping: Function }).ping.bind(c);
  return {
    call: (id, delayMs) =>
      new Promise((resolve, reject) =>
        ping(
          { id, delayMs },
          { deadline: Date.now() + 5_000 },
          (e: ServiceError | null, r: { server: string }) => (e ? reject(e) : resolve(r)),
        ),
      ),
    close: () => c.close(),
  };
}
