/**
 * npm run bench:discovery [-- --json] [-- --quick] [-- --only pool,roundRobin,staticPool]
 *
 * The pool's DNS discovery and load-driven size against a real DNS server (dnsmasq on loopback,
 * started here) and real grpc-js backend processes bound to their own loopback addresses (one
 * port), each answering with its name; 16 callers as bench:grpc. Three clients of one name:
 *   - pool:        GrpcPool, `url: 'dns:///svc.test:PORT'`, `size: 1` per address, discovery
 *                  asking the test DNS server, `refreshIntervalMs` 1 s
 *   - roundRobin:  grpc-js `dns://SERVER/svc.test:PORT` + round_robin (+ retryPolicy on
 *                  UNAVAILABLE); the package script sets GRPC_NODE_USE_ALTERNATIVE_RESOLVER=true,
 *                  so grpc-js asks the DNS server named in the target instead of getaddrinfo
 *   - staticPool:  GrpcPool as before discovery: the same target with `discovery: false`
 *                  (each channel resolves the name itself and connects with pick_first)
 * Phases, each with a fresh client: spread over 5 addresses (10 s); scale-up 2 → 5 addresses;
 * rolling replacement of the 5 backends by 5 new addresses, one every 2 s (the old address leaves
 * DNS, 2 s later its process gets SIGTERM and shuts down gracefully); DNS server stopped for 30 s,
 * then back without the name (NXDOMAIN) for 3 s; saturation: 3 backends with
 * `grpc.max_concurrent_streams: 8`, 100 ms handlers, 96 callers (the pool with
 * `size: { min: 1, max: 8, maxConcurrentStreams: 8, intervalMs: 500, maxStep: 4 }`), then a light
 * load until it shrank back.
 * Client CPU per call: interleaved 1 s rounds of every client, all warmed up first; the ratio to
 * round_robin is the median of the per-round ratios (as bench:consumer's), so one round slowed by
 * another process on the machine does not decide it (`cpuRatioRounds` lists them).
 * `--quick` shortens the long phases (spread 3 s, outage 4 s, saturation 3 s) for development;
 * `--verbose` prints the saturation timeline;
 * `--phases spread,scaleUp,rollout,outage,saturation,cpu` runs some of them (spread always runs:
 * it gives the steady p99 the rollout is compared with).
 */
import { Logger } from '@nestjs/common';
import type { GrpcPoolOptions } from '@nest-resilience/grpc-pool';
import { Dnsmasq } from '../support/dnsmasq';
import { EchoProcess } from '../support/echo-process';
import { freePort } from '../support/free-port';
import { benchClient, type BenchClient, type Kind } from './discovery.clients';
import {
  byServer,
  lowestNewShare,
  maxDeviation,
  p99,
  runPhase,
  successRate,
} from './discovery.load';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
/** `--verbose`: the saturation phase's throughput and connections per address, every 500 ms. */
const VERBOSE = args.includes('--verbose');
const ONLY = (() => {
  const i = args.indexOf('--only');
  return i >= 0 ? args[i + 1].split(',') : ['pool', 'roundRobin', 'staticPool'];
})();
const PHASES = new Set(
  (() => {
    const i = args.indexOf('--phases');
    return i >= 0
      ? args[i + 1].split(',')
      : ['spread', 'scaleUp', 'rollout', 'outage', 'saturation', 'cpu'];
  })(),
);
const CPU_ROUNDS = QUICK ? 2 : 9;
const CONCURRENCY = 16;
const REFRESH_MS = 1_000;
const SPREAD_MS = QUICK ? 3_000 : 10_000;
const OUTAGE_MS = QUICK ? 4_000 : 30_000;
const EMPTY_MS = 3_000;
const STEP_MS = 2_000;
const GRACE_MS = 2_000;
const SAT_MS = QUICK ? 3_000 : 6_000;
const SAT_CALLERS = 96;
const HANDLER_MS = 100;
const IDEAL = (SAT_CALLERS / HANDLER_MS) * 1_000; // 960 calls/s
const SHRINK_AFTER_MS = QUICK ? 1_000 : 3_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/** Per-round client CPU ÷ round_robin's in the same round, by client (the cpu phase). */
const cpuRounds: Partial<Record<Kind, number[]>> = {};

async function main(): Promise<void> {
  Logger.overrideLogger(['error']);
  const dns = new Dnsmasq();
  await dns.start({});
  const port = await freePort();
  const make = (prefix: string, from: number, n: number, streams?: number) =>
    Array.from(
      { length: n },
      (_, i) => new EchoProcess(`${prefix}${i + 1}`, port, `127.0.0.${from + i}`, streams),
    );
  const olds = make('a', 2, 5);
  const news = make('b', 7, 5);
  const sats = make('s', 12, 3, 8);
  const all = [...olds, ...news, ...sats];
  await Promise.all(all.map((b) => b.start()));
  const ips = (list: EchoProcess[]) => list.map((b) => b.host);
  const names = (list: EchoProcess[]) => list.map((b) => b.name);
  const records = (svc: EchoProcess[]) => ({ 'svc.test': ips(svc), 'sat.test': ips(sats) });

  const client = (
    kind: Kind,
    host: string,
    size: GrpcPoolOptions['size'] = 1,
    policy: 'peak-ewma' | 'round-robin' = 'peak-ewma',
  ) =>
    benchClient(kind, { host, port, dnsServer: dns.server, refreshMs: REFRESH_MS, size, policy });

  /** A fresh client of `svc.test` with `hosts` in DNS, warmed up for 1 s. */
  async function fresh(kind: Kind, hosts: EchoProcess[]): Promise<BenchClient> {
    await dns.setHosts(records(hosts));
    const c = await client(kind, 'svc.test');
    await runPhase(c.call, 1_000, CONCURRENCY);
    return c;
  }

  const results: Partial<Record<Kind, Record<string, number | null>>> = {};
  for (const kind of ONLY as Kind[]) {
    const r: Record<string, number | null> = {};
    results[kind] = r;
    console.error(`[bench] ${kind}: spread`);
    let c = await fresh(kind, olds);
    const spread = await runPhase(c.call, PHASES.has('spread') ? SPREAD_MS : 1_000, CONCURRENCY);
    r.spreadMaxDeviation = round(maxDeviation(spread.records, names(olds)));
    const counts = JSON.stringify(Object.fromEntries(byServer(spread.records)));
    console.error(`[bench] ${kind}: calls per backend ${counts}`);
    const steadyP99 = p99(spread.records);
    c.close();
    if (kind === 'pool' && PHASES.has('spread')) {
      // The same with `balancer: { policy: 'round-robin' }` (exact rotation): the default policy
      // weighs each backend's latency, so its split can only be as even as their latencies.
      await dns.setHosts(records(olds));
      c = await client(kind, 'svc.test', 1, 'round-robin');
      await runPhase(c.call, 1_000, CONCURRENCY);
      const even = await runPhase(c.call, SPREAD_MS, CONCURRENCY);
      r.spreadMaxDeviationRoundRobinPolicy = round(maxDeviation(even.records, names(olds)));
      c.close();
    }

    if (PHASES.has('scaleUp')) {
      console.error(`[bench] ${kind}: scale-up 2 -> 5`);
      c = await fresh(kind, olds.slice(0, 2));
      const up = await runPhase(c.call, 500 + REFRESH_MS + 2_500, CONCURRENCY, 0, async () => {
        await sleep(500);
        await dns.setHosts(records(olds));
      });
      const [from, to] = [500, 500 + REFRESH_MS + 2_000];
      r.scaleUpNewShare = round(
        lowestNewShare(up.records, names(olds), names(olds.slice(2)), from, to),
      );
      c.close();
    }

    if (PHASES.has('rollout')) {
      console.error(`[bench] ${kind}: rolling replacement`);
      c = await fresh(kind, olds);
      const rollout = await runPhase(
        c.call,
        5 * STEP_MS + GRACE_MS + 1_000,
        CONCURRENCY,
        0,
        async () => {
          const stops: Promise<void>[] = [];
          for (let i = 0; i < 5; i++) {
            // The old address leaves DNS; its process gets SIGTERM GRACE_MS later.
            await dns.setHosts(records([...news.slice(0, i + 1), ...olds.slice(i + 1)]));
            const old = olds[i];
            stops.push(sleep(GRACE_MS).then(() => old.terminate()));
            await sleep(STEP_MS);
          }
          await Promise.all(stops);
        },
      );
      r.rolloutSuccessRate = round(successRate(rollout.records), 5);
      r.rolloutP99OverSteady = round(p99(rollout.records) / steadyP99, 2);
      c.close();
      await Promise.all(olds.map((b) => b.start()));
    }

    if (PHASES.has('outage')) {
      console.error(`[bench] ${kind}: DNS outage ${OUTAGE_MS} ms, then NXDOMAIN`);
      c = await fresh(kind, olds);
      const outage = await runPhase(c.call, OUTAGE_MS + EMPTY_MS, CONCURRENCY, 0, async () => {
        await dns.stop();
        await sleep(OUTAGE_MS);
        await dns.start({ 'sat.test': ips(sats) });
      });
      r.dnsOutageSuccessRate = round(successRate(outage.records), 5);
      c.close();
    }

    if (PHASES.has('saturation')) await saturation(kind, r);
  }

  async function saturation(kind: Kind, r: Record<string, number | null>): Promise<void> {
    console.error(`[bench] ${kind}: saturation`);
    await dns.setHosts(records(olds));
    const sizing = {
      min: 1,
      max: 8,
      maxConcurrentStreams: 8,
      intervalMs: 500,
      maxStep: 4,
      shrinkAfterMs: SHRINK_AFTER_MS,
    };
    const c = await client(kind, 'sat.test', kind === 'pool' ? sizing : 3);
    await runPhase(c.call, 500, 3);
    const timeline: string[] = [];
    const sat = await runPhase(c.call, SAT_MS, SAT_CALLERS, HANDLER_MS, async () => {
      for (let t = 0; t < SAT_MS; t += 500) {
        timeline.push(String(c.perAddress?.() ?? ''));
        await sleep(500);
      }
    });
    if (VERBOSE) {
      const per = Array.from(
        { length: SAT_MS / 500 },
        (_, w) =>
          sat.records.filter(
            (x) => x.ok && x.at + x.latency >= w * 500 && x.at + x.latency < w * 500 + 500,
          ).length * 2,
      );
      console.error(
        `[bench] ${kind}: calls/s per 500 ms ${per} connections ${timeline.join(' | ')} p50 ${sat.records.map((x) => x.latency).sort((a, b) => a - b)[sat.records.length >> 1]}`,
      );
    }
    // Throughput once the pool had time to grow: the calls answered in the second half.
    const late = sat.records.filter((x) => x.ok && x.at + x.latency >= SAT_MS / 2);
    r.saturationOverIdeal = round(late.length / (sat.seconds - SAT_MS / 2000) / IDEAL);
    r.shrinkFailedCalls = null;
    if (kind === 'pool' && c.perAddress) {
      let failed = sat.records.filter((x) => !x.ok).length;
      const peak = c.perAddress();
      const until = Date.now() + SHRINK_AFTER_MS + 15_000;
      while (Date.now() < until && !c.perAddress().every((n) => n === 1))
        failed += (await runPhase(c.call, 500, 1)).records.filter((x) => !x.ok).length;
      if (c.perAddress().every((n) => n === 1)) r.shrinkFailedCalls = failed;
      console.error(
        `[bench] pool: connections per address at the peak ${peak}, after ${c.perAddress()}`,
      );
    }
    c.close();
  }

  if (PHASES.has('cpu')) {
    // Client CPU per call in interleaved 1 s rounds, every client warmed up (JIT) first.
    console.error(`[bench] CPU per call: ${CPU_ROUNDS} interleaved rounds`);
    await dns.setHosts(records(olds));
    const kinds = ONLY as Kind[];
    const warm = await Promise.all(kinds.map((kind) => client(kind, 'svc.test')));
    for (const c of warm) await runPhase(c.call, 1_000, CONCURRENCY);
    const used = kinds.map(() => ({ us: 0, calls: 0 }));
    const perRound: number[][] = kinds.map(() => []);
    for (let n = 0; n < CPU_ROUNDS; n++) {
      for (let i = 0; i < kinds.length; i++) {
        const p = await runPhase(warm[i].call, 1_000, CONCURRENCY);
        used[i].us += p.cpuUsPerCall * p.records.length;
        used[i].calls += p.records.length;
        perRound[i].push(p.cpuUsPerCall);
      }
    }
    kinds.forEach(
      (kind, i) => (results[kind]!.cpuUsPerCall = round(used[i].us / used[i].calls, 1)),
    );
    const rr = kinds.indexOf('roundRobin');
    if (rr >= 0)
      kinds.forEach((kind, i) => {
        const ratios = perRound[i].map((us, n) => us / perRound[rr][n]);
        cpuRounds[kind] = ratios.map((r) => round(r, 3));
        results[kind]!.cpuRatioVsRoundRobin = round(median(ratios), 3);
      });
    for (const c of warm) c.close();
  }

  await Promise.all(all.map((b) => b.kill()));
  await dns.close();
  report(results);
}

function report(results: Partial<Record<Kind, Record<string, number | null>>>): void {
  for (const r of Object.values(results)) r!.cpuRatioVsRoundRobin ??= null;
  const keys = [
    'spreadMaxDeviation',
    'spreadMaxDeviationRoundRobinPolicy',
    'scaleUpNewShare',
    'rolloutSuccessRate',
    'rolloutP99OverSteady',
    'dnsOutageSuccessRate',
    'saturationOverIdeal',
    'shrinkFailedCalls',
    'cpuRatioVsRoundRobin',
    'cpuUsPerCall',
  ];
  const kinds = Object.keys(results) as Kind[];
  console.log(`\n| figure | ${kinds.join(' | ')} |`);
  console.log(`| --- |${kinds.map(() => ' ---: |').join('')}`);
  for (const k of keys)
    console.log(`| ${k} | ${kinds.map((kind) => results[kind]![k] ?? '—').join(' | ')} |`);
  const pool = results.pool;
  const targets = {
    spreadMaxDeviation: '<= 0.2',
    scaleUpNewShare: '>= 0.8',
    rolloutSuccessRate: '== 1',
    rolloutP99OverSteady: '<= 2',
    dnsOutageSuccessRate: '== 1',
    saturationOverIdeal: '>= 0.9',
    shrinkFailedCalls: '== 0',
    cpuRatioVsRoundRobin: '<= 1.10',
  };
  const met = pool && {
    spreadMaxDeviation: pool.spreadMaxDeviation! <= 0.2,
    scaleUpNewShare: pool.scaleUpNewShare! >= 0.8,
    rolloutSuccessRate: pool.rolloutSuccessRate === 1,
    rolloutP99OverSteady: pool.rolloutP99OverSteady! <= 2,
    dnsOutageSuccessRate: pool.dnsOutageSuccessRate === 1,
    saturationOverIdeal: pool.saturationOverIdeal! >= 0.9,
    shrinkFailedCalls: pool.shrinkFailedCalls === 0,
    ...(pool.cpuRatioVsRoundRobin !== null && {
      cpuRatioVsRoundRobin: pool.cpuRatioVsRoundRobin! <= 1.1,
    }),
  };
  if (cpuRounds.pool)
    console.log(`\npool CPU ÷ round_robin per round: ${cpuRounds.pool.join(', ')}`);
  if (met)
    console.log(
      `\ntargets: ${Object.entries(met)
        .map(([k, ok]) => `${k} ${ok ? 'met' : 'NOT met'}`)
        .join('; ')}`,
    );
  if (args.includes('--json')) {
    const baseline = (kind: Kind) => results[kind] ?? null;
    console.log(
      JSON.stringify({
        ...pool,
        cpuRatioRounds: cpuRounds.pool ?? null,
        baselines: { roundRobin: baseline('roundRobin'), staticPool: baseline('staticPool') },
        targets,
        met,
      }),
    );
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
