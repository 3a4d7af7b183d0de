/**
 * npm run bench:grpc [-- --json] [-- --seconds N] [-- --concurrency N] [-- --only plain,rr,pool]
 *                    [-- --steady-only]
 *
 * Unary calls on loopback, one run: 3 echo backend processes behind haproxy (`mode tcp`, round
 * robin, TCP checks: one address in front of the pods), called through
 *   - plain:        one grpc-js client to the balancer (one HTTP/2 connection)
 *   - grpc-js rr:   grpc-js with its own round_robin over the 3 backend addresses + retryPolicy
 *   - pool:         this GrpcPool with default options, 3 connections to the balancer
 * every call with a 5 s deadline. Phases per client, each against the backend that last answered
 * the client:
 *   - steady:  throughput, latency, client CPU per call (process.cpuUsage of this process; the
 *              backends and haproxy are other processes), in 1 s rounds interleaved between clients
 *   - slow:    the backend answers 200 ms late
 *   - freeze:  the backend is SIGSTOPped 1 s in for 5 s (its TCP connections stay open, haproxy's
 *              TCP check keeps it UP); success and p99 of the calls in flight during that window
 *   - outage:  the backend is SIGKILLed 1 s in, then restarted
 * and, for the pool, every backend down. Diagnostics, only when named in `--only` (with
 * `--steady-only`: the steady rounds alone): `plain3`, three plain channels rotated per call (three
 * connections without the pool's code), and `pool1`, a pool of `size: 1` (its code on one
 * connection). Steady rounds first; then each client's faults, the pool's first (so that no other
 * client's kill has moved its connections).
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
import { GrpcPool, GrpcPoolModule, getGrpcPoolToken } from '@nest-resilience/grpc-pool';
import { ECHO_PROTO, ROUND_ROBIN_WITH_RETRIES, type EchoClient } from '../support/grpc-backend';
import { EchoProcess } from '../support/echo-process';
import { freePort } from '../support/free-port';
import { Haproxy } from '../support/haproxy';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const PHASE_MS = flag('--seconds', 3) * 1000;
const CONCURRENCY = flag('--concurrency', 16);
const ONLY = (() => {
  const i = args.indexOf('--only');
  return i >= 0 ? new Set(args[i + 1].split(',')) : undefined;
})();
/** `--steady-only`: the steady rounds (throughput, latency, CPU per call) without the faults. */
const STEADY_ONLY = args.includes('--steady-only');
/** Clients of a run without `--only` (`plain3` and `pool1` are diagnostics, on request only). */
const DEFAULT_CLIENTS = new Set(['plain', 'rr', 'pool']);
const DEADLINE_MS = 5_000;
const FREEZE_MS = 5_000;
const SLOW_MS = 200;
const MAX_CALLS_PER_PHASE = 2_000_000;

type Call = (id: string) => Promise<{ server: string }>;

interface Window {
  calls: number;
  ok: number;
  p50: number;
  p99: number;
}

interface PhaseResult extends Window {
  throughput: number;
  cpuUsPerCall: number;
  /** For merging interleaved rounds: every latency, CPU µs used, seconds elapsed. */
  raw: { latencies: number[]; oks: number; cpuUs: number; seconds: number };
  lastServer?: string;
  /** Successful calls per backend. */
  servers: Map<string, number>;
  /** Calls in flight at some time inside [from, to) ms of the phase. */
  window(from: number, to: number): Window;
}

async function phase(
  call: Call,
  durationMs: number,
  during?: () => Promise<void>,
): Promise<PhaseResult> {
  const started: number[] = [];
  const latencies: number[] = [];
  const oks: boolean[] = [];
  let calls = 0;
  let lastServer: string | undefined;
  const servers = new Map<string, number>();
  const start = performance.now();
  const end = start + durationMs;
  const cpu = process.cpuUsage();
  const event = during?.();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      while (performance.now() < end && calls < MAX_CALLS_PER_PHASE) {
        const t = performance.now();
        calls++;
        let ok = false;
        try {
          lastServer = (await call(`w${w}-${calls}`)).server;
          servers.set(lastServer, (servers.get(lastServer) ?? 0) + 1);
          ok = true;
        } catch {
          // counted as a failure
        }
        started.push(t - start);
        latencies.push(performance.now() - t);
        oks.push(ok);
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  await event;
  const elapsed = (performance.now() - start) / 1000;
  const summarize = (keep: (i: number) => boolean): Window => {
    const l: number[] = [];
    let ok = 0;
    for (let i = 0; i < latencies.length; i++) {
      if (!keep(i)) continue;
      l.push(latencies[i]);
      if (oks[i]) ok++;
    }
    l.sort((a, b) => a - b);
    const at = (q: number): number => l[Math.min(l.length - 1, Math.floor(q * l.length))] ?? 0;
    return { calls: l.length, ok, p50: at(0.5), p99: at(0.99) };
  };
  return {
    ...summarize(() => true),
    throughput: calls / elapsed,
    cpuUsPerCall: (used.user + used.system) / calls,
    raw: {
      latencies,
      oks: oks.filter(Boolean).length,
      cpuUs: used.user + used.system,
      seconds: elapsed,
    },
    lastServer,
    servers,
    window: (from, to) => summarize((i) => started[i] < to && started[i] + latencies[i] > from),
  };
}

function grpcCall(client: Client): Call {
  const ping = (client as unknown as { ping: Function }).ping.bind(client);
  return (id) =>
    new Promise((resolve, reject) =>
      ping(
        { id },
        { deadline: Date.now() + DEADLINE_MS },
        (e: ServiceError | null, r: { server: string }) => (e ? reject(e) : resolve(r)),
      ),
    );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Steady-state figures of several interleaved rounds of one client, merged. */
function merge(parts: PhaseResult[]): PhaseResult {
  const latencies = parts.flatMap((p) => p.raw.latencies).sort((a, b) => a - b);
  const at = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  const cpuUs = parts.reduce((s, p) => s + p.raw.cpuUs, 0);
  const seconds = parts.reduce((s, p) => s + p.raw.seconds, 0);
  const oks = parts.reduce((s, p) => s + p.raw.oks, 0);
  return {
    calls: latencies.length,
    ok: oks,
    p50: at(0.5),
    p99: at(0.99),
    throughput: latencies.length / seconds,
    cpuUsPerCall: cpuUs / latencies.length,
    raw: { latencies, oks, cpuUs, seconds },
    lastServer: parts.at(-1)?.lastServer,
    servers: new Map(),
    window: () => {
      throw new Error('not for merged phases');
    },
  };
}

interface Row {
  name: string;
  steady: PhaseResult;
  outage: PhaseResult;
  freeze: Window;
  slow: PhaseResult;
  /** Share of the slow phase's calls answered by the slowed backend. */
  slowShare: number;
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
        credentials: { insecure: true }, // every other option at its default
      }),
      // Only for `--only …,pool1`: the pool's code on one connection (where its CPU goes).
      ...(ONLY?.has('pool1')
        ? [
            GrpcPoolModule.register({
              name: 'bench1',
              package: 'echo.v1',
              protoPath: ECHO_PROTO,
              url: haproxy.address,
              credentials: { insecure: true },
              size: 1,
            }),
          ]
        : []),
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
    ROUND_ROBIN_WITH_RETRIES,
  );

  // Only for `--only …,plain3`: three plain grpc-js channels to haproxy (distinct connections),
  // rotated per call: the cost of three connections without the pool's code.
  const plain3 = ONLY?.has('plain3')
    ? [0, 1, 2].map(
        () =>
          new EchoService(haproxy.address, credentials.createInsecure(), {
            'grpc.use_local_subchannel_pool': 1,
          }),
      )
    : [];
  const plain3Calls = plain3.map(grpcCall);
  let turn = 0;
  const echo1 = ONLY?.has('pool1')
    ? app.get<GrpcPool>(getGrpcPoolToken('bench1')).getService<EchoClient>('EchoService')
    : undefined;

  const clients: [string, string, Call][] = [
    ['plain', 'plain grpc-js (1 connection)', grpcCall(plain)],
    ['rr', 'grpc-js round_robin + retryPolicy', grpcCall(roundRobin)],
    ['pool', 'grpc-pool (defaults: 3 connections)', (id) => echo.ping({ id })],
    ['plain3', '3 plain grpc-js channels, rotated', (id) => plain3Calls[turn++ % 3](id)],
    ['pool1', 'grpc-pool (size: 1)', (id) => echo1!.ping({ id })],
  ];
  const victimOf = (r: PhaseResult) => backends.find((b) => b.name === r.lastServer) ?? backends[0];
  const rows: Row[] = [];
  try {
    const selected = clients.filter(([key]) => (ONLY ? ONLY.has(key) : DEFAULT_CLIENTS.has(key)));
    // Steady state first, in interleaved 1 s rounds, so a shared machine's load drifts over every
    // client alike (CPU per call is compared as a ratio).
    for (const [, , call] of selected) await phase(call, 500); // warm-up: connections, JIT
    const rounds = new Map<string, PhaseResult[]>();
    for (let round = 0; round < Math.max(1, PHASE_MS / 1000); round++) {
      for (const [key, , call] of selected)
        rounds.set(key, [...(rounds.get(key) ?? []), await phase(call, 1_000)]);
    }
    if (STEADY_ONLY) return reportSteady(selected, rounds);
    // Faults, one client after the other, the pool first: a backend killed in another client's
    // phase also drops the pool's idle connection to it, which then reconnects through haproxy to
    // whichever backend haproxy picks, so after the plain and round_robin kill phases all three
    // pooled connections could sit on one backend (seen in one of three full runs) and the pool's
    // figures would depend on the other clients' faults. The plain client (its one connection is
    // its victim anyway) and round_robin (dials each backend itself) do not depend on the spread.
    const byKey = new Map<string, Row>();
    for (const [key, name, call] of [...selected].reverse()) {
      const steady = merge(rounds.get(key)!);
      // Slow, freeze, kill: each fault disturbs the connections' spread over the backends less
      // than the next one (a killed backend's connections move to the others).
      let victim: EchoProcess;
      victim = victimOf(await phase(call, 300));
      const slowed = victim;
      await victim.command(`slow ${SLOW_MS}`);
      const slow = await phase(call, PHASE_MS);
      await victim.command('normal');
      await sleep(500);
      victim = victimOf(await phase(call, 300));
      const frozen = victim;
      const freezePhase = await phase(call, 1_000 + FREEZE_MS, async () => {
        await sleep(1_000);
        frozen.freeze();
        await sleep(FREEZE_MS);
        frozen.resume();
      });
      frozen.resume();
      const freeze = freezePhase.window(1_000, 1_000 + FREEZE_MS);
      await sleep(1_500); // recovery

      victim = victimOf(await phase(call, 300));
      const outage = await phase(call, PHASE_MS, async () => {
        await sleep(1_000);
        await victim.kill();
      });
      await victim.start();
      await sleep(1_000); // haproxy checks see it back

      const slowShare = (slow.servers.get(slowed.name) ?? 0) / Math.max(1, slow.ok);
      byKey.set(key, { name, steady, outage, freeze, slow, slowShare });
    }
    for (const [key] of selected) rows.push(byKey.get(key)!);

    // Every backend down: once the circuits are open, calls fail fast.
    let allDown: PhaseResult | undefined;
    if (!ONLY || ONLY.has('pool')) {
      for (const b of backends) await b.kill();
      await phase((id) => echo.ping({ id }), 1_000);
      allDown = await phase((id) => echo.ping({ id }), 1_000);
    }
    // Pool ÷ plain CPU per call of each pair of rounds (the same second of machine load, about):
    // how much of the merged ratio is noise.
    const perRound = (rounds.get('pool') ?? []).map((p, i) => {
      const plainRound = rounds.get('plain')?.[i];
      return plainRound ? round(p.cpuUsPerCall / plainRound.cpuUsPerCall, 3) : null;
    });
    report(rows, allDown, perRound);
  } finally {
    for (const b of backends) b.resume(); // never leave a stopped process behind
    plain.close();
    roundRobin.close();
    for (const c of plain3) c.close();
    await app.close();
    await haproxy.stop();
    for (const b of backends) await b.kill();
  }
}

/** `--steady-only`: each client's merged steady figures and its CPU per call against plain's. */
function reportSteady(
  selected: [string, string, Call][],
  rounds: Map<string, PhaseResult[]>,
): void {
  const plainRounds = rounds.get('plain');
  const plainCpu = plainRounds ? merge(plainRounds).cpuUsPerCall : undefined;
  console.log(
    `\nsteady state: ${CONCURRENCY} concurrent callers, ${Math.max(1, PHASE_MS / 1000)} interleaved 1 s rounds per client\n`,
  );
  console.log(
    '| client | calls/s | p50 / p99 (ms) | client CPU µs/call | ÷ plain | ÷ plain per round |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | --- |');
  for (const [key, name] of selected) {
    const parts = rounds.get(key)!;
    const m = merge(parts);
    const perRound = plainRounds
      ? parts.map((p, i) => (p.cpuUsPerCall / plainRounds[i].cpuUsPerCall).toFixed(2)).join(', ')
      : '';
    console.log(
      `| ${name} | ${Math.round(m.throughput).toLocaleString()} | ${m.p50.toFixed(2)} / ${m.p99.toFixed(2)} | ${m.cpuUsPerCall.toFixed(1)} | ${plainCpu ? (m.cpuUsPerCall / plainCpu).toFixed(3) : ''} | ${perRound} |`,
    );
  }
}

function report(
  rows: Row[],
  allDown: PhaseResult | undefined,
  cpuRatioPerRound: (number | null)[],
): void {
  const pct = (w: Window) => `${((100 * w.ok) / Math.max(1, w.calls)).toFixed(2)}%`;
  console.log(
    `\ngrpc-pool benchmark: unary calls on loopback, ${CONCURRENCY} concurrent callers, ${DEADLINE_MS / 1000} s deadline, ${PHASE_MS / 1000} s phases, 3 backend processes behind haproxy\n`,
  );
  console.log(
    '| client | steady calls/s | steady p50 / p99 (ms) | client CPU µs/call | kill: success | kill: p99 (ms) | 5 s freeze: success | freeze: p99 (ms) | 200 ms slow: p99 (ms), share of calls on it |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${Math.round(r.steady.throughput).toLocaleString()} | ${r.steady.p50.toFixed(2)} / ${r.steady.p99.toFixed(2)} | ${Math.round(r.steady.cpuUsPerCall)} | ${pct(r.outage)} (${r.outage.calls - r.outage.ok} of ${r.outage.calls} failed) | ${r.outage.p99.toFixed(1)} | ${pct(r.freeze)} (${r.freeze.calls - r.freeze.ok} of ${r.freeze.calls} failed) | ${r.freeze.p99.toFixed(1)} | ${r.slow.p99.toFixed(1)}, ${(100 * r.slowShare).toFixed(1)}% |`,
    );
  }
  if (allDown) {
    console.log(
      `| grpc-pool, every backend down | | | | ${allDown.ok} ok of ${allDown.calls} | p99 ${allDown.p99.toFixed(3)} (fail fast) | | | |`,
    );
  }
  const find = (prefix: string) => rows.find((r) => r.name.startsWith(prefix));
  const [plainRow, rrRow, poolRow] = [find('plain'), find('grpc-js'), find('grpc-pool')];
  // The pool against the plain channel is the comparison; round_robin's figures when it ran
  // (`--only plain,pool` skips it, and the slow-backend target that needs it).
  if (!plainRow || !poolRow) return;
  const rr = <T>(f: (r: Row) => T): T | null => (rrRow ? f(rrRow) : null);
  const summary = {
    freezeSuccessRate: round(poolRow.freeze.ok / poolRow.freeze.calls, 5),
    freezeP99Ms: round(poolRow.freeze.p99, 1),
    slowP99Ms: round(poolRow.slow.p99, 1),
    roundRobinSlowP99Ms: rr((r) => round(r.slow.p99, 1)),
    cpuUsPerCall: {
      plain: round(plainRow.steady.cpuUsPerCall, 1),
      roundRobin: rr((r) => round(r.steady.cpuUsPerCall, 1)),
      pool: round(poolRow.steady.cpuUsPerCall, 1),
    },
    cpuRatioVsPlain: round(poolRow.steady.cpuUsPerCall / plainRow.steady.cpuUsPerCall, 3),
    cpuRatioPerRound,
    throughputRatioVsPlain: round(poolRow.steady.throughput / plainRow.steady.throughput),
    plainFreezeSuccessRate: round(plainRow.freeze.ok / plainRow.freeze.calls, 5),
    plainFreezeP99Ms: round(plainRow.freeze.p99, 1),
    roundRobinFreezeSuccessRate: rr((r) => round(r.freeze.ok / r.freeze.calls, 5)),
    roundRobinFreezeP99Ms: rr((r) => round(r.freeze.p99, 1)),
    outageSuccessRate: round(poolRow.outage.ok / poolRow.outage.calls, 5),
    plainOutageSuccessRate: round(plainRow.outage.ok / plainRow.outage.calls, 5),
    roundRobinOutageSuccessRate: rr((r) => round(r.outage.ok / r.outage.calls, 5)),
    allDownFailFastP99Ms: allDown ? round(allDown.p99, 3) : null,
    steadyThroughput: Object.fromEntries(
      rows.map((r) => [r.name, Math.round(r.steady.throughput)]),
    ),
    targets: {
      freezeSuccessRate: '== 1.0',
      freezeP99Ms: '<= 250',
      slowP99Ms: '<= roundRobinSlowP99Ms / 2',
      cpuRatioVsPlain: '<= 1.10',
      outageSuccessRate: '== 1.0',
    },
  };
  const met: Partial<Record<keyof typeof summary.targets, boolean>> = {
    freezeSuccessRate: summary.freezeSuccessRate === 1,
    freezeP99Ms: summary.freezeP99Ms <= 250,
    ...(summary.roundRobinSlowP99Ms !== null && {
      slowP99Ms: summary.slowP99Ms <= summary.roundRobinSlowP99Ms / 2,
    }),
    cpuRatioVsPlain: summary.cpuRatioVsPlain <= 1.1,
    outageSuccessRate: summary.outageSuccessRate === 1,
  };
  console.log(
    `\ntargets: ${Object.entries(met)
      .map(
        ([k, ok]) =>
          `${k} ${ok ? 'met' : 'NOT met'} (${summary[k as keyof typeof met]} ${summary.targets[k as keyof typeof met]})`,
      )
      .join('; ')}${rrRow ? '' : ' (slowP99Ms needs the rr client)'}`,
  );
  if (args.includes('--json')) console.log(JSON.stringify({ ...summary, met }));
}

function round(n: number, digits = 2): number {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
