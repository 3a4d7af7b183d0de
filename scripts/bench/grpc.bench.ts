/**
 * npm run bench:grpc [-- --json] [-- --seconds N] [-- --concurrency N]
 *
 * Unary calls on loopback, one run, one process tree: 3 echo backend processes behind haproxy
 * (`mode tcp`, round robin: the seed's "one address in front of the pods"), called through
 *   - plain:        one grpc-js client to the balancer (one HTTP/2 connection)
 *   - grpc-js rr:   grpc-js with its own round_robin over the 3 backend addresses + retryPolicy
 *   - pool:         this GrpcPool, 3 connections to the balancer
 * Phases per client: steady state; outage (the backend the client was last answered by is
 * SIGKILLed 1 s in, then restarted); and, for the pool, every backend down.
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
import { GrpcPool, GrpcPoolModule, getGrpcPoolToken } from '../../libs/grpc-pool/src';
import { ECHO_PROTO, type EchoClient } from '../../test/support/grpc-backend';
import { EchoProcess } from '../../test/support/echo-process';
import { freePort, Haproxy } from '../../test/support/haproxy';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const PHASE_MS = flag('--seconds', 3) * 1000;
const CONCURRENCY = flag('--concurrency', 16);
const MAX_CALLS_PER_PHASE = 2_000_000;

type Call = (id: string) => Promise<{ server: string }>;

interface PhaseResult {
  calls: number;
  ok: number;
  throughput: number;
  p50: number;
  p99: number;
  lastServer?: string;
}

async function phase(
  call: Call,
  durationMs: number,
  during?: () => Promise<void>,
): Promise<PhaseResult> {
  const latencies: number[] = [];
  let ok = 0;
  let calls = 0;
  let lastServer: string | undefined;
  const start = performance.now();
  const end = start + durationMs;
  const event = during?.();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      while (performance.now() < end && calls < MAX_CALLS_PER_PHASE) {
        const t = performance.now();
        calls++;
        try {
          lastServer = (await call(`w${w}-${calls}`)).server;
          ok++;
        } catch {
          // counted as a failure below
        }
        latencies.push(performance.now() - t);
      }
    }),
  );
  await event;
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { calls, ok, throughput: calls / elapsed, p50: at(0.5), p99: at(0.99), lastServer };
}

function grpcCall(client: Client): Call {
  const ping = (client as unknown as { ping: Function }).ping.bind(client);
  return (id) =>
    new Promise((resolve, reject) =>
      ping(
        { id },
        { deadline: Date.now() + 2_000 },
        (e: ServiceError | null, r: { server: string }) => (e ? reject(e) : resolve(r)),
      ),
    );
}

async function main(): Promise<void> {
  const backends = ['b1', 'b2', 'b3'].map((name) => new EchoProcess(name));
  for (const b of backends) await b.start();
  const haproxy = new Haproxy(
    await freePort(),
    backends.map((b) => b.address),
  );
  await haproxy.start();
  const EchoService = (
    loadPackageDefinition(loadSync(ECHO_PROTO)) as unknown as {
      echo: { v1: { EchoService: ServiceClientConstructor } };
    }
  ).echo.v1.EchoService;

  @Module({
    imports: [
      GrpcPoolModule.register({
        name: 'bench',
        package: 'echo.v1',
        protoPath: ECHO_PROTO,
        url: haproxy.address,
        size: 3,
        credentials: { insecure: true },
        breaker: { ejectionMs: 500 },
      }),
    ],
  })
  class BenchModule {}
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
  const pool = app.get<GrpcPool>(getGrpcPoolToken('bench'));
  const echo = pool.getService<EchoClient>('EchoService');

  const plain = new EchoService(haproxy.address, credentials.createInsecure());
  const roundRobin = new EchoService(
    `ipv4:${backends.map((b) => b.address).join(',')}`,
    credentials.createInsecure(),
    {
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
    },
  );

  const clients: [string, Call][] = [
    ['plain grpc-js (1 connection)', grpcCall(plain)],
    ['grpc-js round_robin + retryPolicy', grpcCall(roundRobin)],
    ['grpc-pool (3 connections)', (id) => echo.ping({ id }, { deadline: 2_000 })],
  ];
  const rows: { name: string; steady: PhaseResult; outage: PhaseResult }[] = [];
  for (const [name, call] of clients) {
    await phase(call, 500); // warm-up: connections up, JIT warm
    const steady = await phase(call, PHASE_MS);
    const victim = backends.find((b) => b.name === steady.lastServer) ?? backends[0];
    const outage = await phase(call, PHASE_MS, async () => {
      await new Promise((r) => setTimeout(r, 1_000));
      await victim.kill();
    });
    await victim.start();
    await new Promise((r) => setTimeout(r, 1_000)); // haproxy checks see it back
    rows.push({ name, steady, outage });
  }

  // Every backend down: once the circuits are open, calls fail fast.
  for (const b of backends) await b.kill();
  await phase((id) => echo.ping({ id }, { deadline: 2_000 }), 1_000);
  const allDown = await phase((id) => echo.ping({ id }, { deadline: 2_000 }), 1_000);

  const [plainRow, , poolRow] = rows;
  console.log(
    `\ngrpc-pool benchmark: unary calls on loopback, ${CONCURRENCY} concurrent callers, ${PHASE_MS / 1000} s phases, 3 backends behind haproxy\n`,
  );
  console.log(
    '| client | steady calls/s | steady p50 / p99 (ms) | outage success | outage p99 (ms) |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${Math.round(r.steady.throughput).toLocaleString()} | ${r.steady.p50.toFixed(2)} / ${r.steady.p99.toFixed(2)} | ${((100 * r.outage.ok) / r.outage.calls).toFixed(3)}% (${r.outage.calls - r.outage.ok} failed of ${r.outage.calls}) | ${r.outage.p99.toFixed(2)} |`,
    );
  }
  console.log(
    `| grpc-pool, every backend down | | | ${allDown.ok} ok of ${allDown.calls} | p99 ${allDown.p99.toFixed(3)} (fail fast) |`,
  );
  const summary = {
    throughputRatioVsPlain: round(poolRow.steady.throughput / plainRow.steady.throughput),
    outageSuccessRate: round(poolRow.outage.ok / poolRow.outage.calls, 5),
    plainOutageSuccessRate: round(plainRow.outage.ok / plainRow.outage.calls, 5),
    roundRobinOutageSuccessRate: round(rows[1].outage.ok / rows[1].outage.calls, 5),
    allDownFailFastP99Ms: round(allDown.p99, 3),
    addedP99MsDuringOutage: round(Math.max(0, poolRow.outage.p99 - poolRow.steady.p99)),
    steadyThroughput: Object.fromEntries(
      rows.map((r) => [r.name, Math.round(r.steady.throughput)]),
    ),
    targets: {
      throughputRatioVsPlain: '>= 0.95',
      outageSuccessRate: '== 1.0',
      allDownFailFastP99Ms: '<= 2',
      addedP99MsDuringOutage: '<= 20',
    },
  };
  const met =
    summary.throughputRatioVsPlain >= 0.95 &&
    summary.outageSuccessRate === 1 &&
    summary.allDownFailFastP99Ms <= 2 &&
    summary.addedP99MsDuringOutage <= 20;
  console.log(
    `\ntargets ${met ? 'met' : 'NOT met'}: throughputRatioVsPlain >= 0.95, outageSuccessRate == 1.0, allDownFailFastP99Ms <= 2, addedP99MsDuringOutage <= 20`,
  );
  if (args.includes('--json')) console.log(JSON.stringify(summary));

  plain.close();
  roundRobin.close();
  await app.close();
  await haproxy.stop();
  for (const b of backends) await b.kill();
}

function round(n: number, digits = 2): number {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
