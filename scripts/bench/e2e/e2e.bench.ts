/**
 * npm run bench:e2e [-- --json] [-- --quick] [-- --only cdc,scale,outage,failover,memory] [-- --rounds N]
 *
 * The original design's headline claims measured end to end on the sample service (user-service,
 * built) with real Kafka, PostgreSQL, Redis and auth-service processes: (1) CDC CPU and duplicate
 * rows by dedup configuration, (2) scale-out to 3 processes, (3) success rate and latency through
 * auth-service outages (pool vs GRPC_POOL_SIZE=1 vs grpc-js round_robin + retryPolicy), (4) a broker
 * failover on a 3-broker KRaft cluster, (5) resident memory per live id. Writes
 * bench/results/<date>.json, bench/REPORT.md and its SVG charts (Vega-Lite); prints a table per
 * part and, with --json, one JSON line. `--quick` (or BENCH_E2E_SIZE=quick): a small smoke run that
 * writes to .cache/bench-e2e-quick instead. `--from bench/results/<date>.json`: only writes the report
 * and charts again from saved results (nothing measured). Started by scripts/bench-e2e.sh.
 * Run under `flock /tmp/bench.lock` on a shared machine.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { notRun, runBrokerFailover } from './broker-failover.part';
import { runCdcCpu } from './cdc-cpu.part';
import type { E2eResults } from './e2e.results';
import { sizeFrom } from './e2e.size';
import { assertBuilt, dropDatabases, ROOT, RUN, say } from './e2e.support';
import { OUTAGE_PHASES, runGrpcOutage } from './grpc-outage.part';
import { runMemory } from './memory.part';
import { headline, reportMarkdown } from './report.markdown';
import { renderSvg, reportCharts } from './report.charts';
import { runScaleOut } from './scale-out.part';

const args = process.argv.slice(2);
const JSON_OUT = args.includes('--json');
const size = sizeFrom(args, process.env);
const onlyAt = args.indexOf('--only');
const ONLY = onlyAt >= 0 ? args[onlyAt + 1].split(',') : undefined;
const runs = (part: string): boolean => !ONLY || ONLY.includes(part);
const print = (line: string): void => (JSON_OUT ? console.error(line) : console.log(line));

const SKIPPED_FAILOVER = notRun('not selected (--only)');

/** `--from FILE`: the report and charts again from saved results, next to them. */
async function rerender(file: string): Promise<void> {
  const results = JSON.parse(readFileSync(file, 'utf8')) as E2eResults;
  const outDir = dirname(dirname(file));
  const charts = reportCharts(results);
  for (const chart of charts)
    writeFileSync(join(outDir, `${chart.name}.svg`), await renderSvg(chart.spec, chart.title));
  writeFileSync(
    join(outDir, 'REPORT.md'),
    reportMarkdown(results, charts, `results/${basename(file)}`),
  );
  say(
    `wrote ${relative(ROOT, join(outDir, 'REPORT.md'))} and ${charts.length} charts from ${file}`,
  );
}

async function main(): Promise<void> {
  const fromAt = args.indexOf('--from');
  if (fromAt >= 0) return rerender(args[fromAt + 1]);
  assertBuilt();
  const started = Date.now();
  const outDir =
    size.name === 'full' && !ONLY ? join(ROOT, 'bench') : join(ROOT, '.cache', 'bench-e2e-quick');
  const logDir = join(ROOT, '.cache', `bench-e2e-${RUN}`);
  mkdirSync(join(outDir, 'results'), { recursive: true });
  mkdirSync(logDir, { recursive: true });
  say(`${size.name} run ${RUN}; app logs in ${relative(ROOT, logDir)}`);
  const results: E2eResults = {
    date: new Date().toISOString(),
    size: size.name,
    seconds: 0,
    machine: {
      cpus: cpus().length,
      node: process.version,
      memoryGb: Math.round(totalmem() / 2 ** 30),
    },
    cdcCpu: [],
    scaleOut: [],
    outage: {
      seconds: [],
      phases: [],
      ratePerSec: size.outageRate,
      schedule: OUTAGE_PHASES.map(
        (p) =>
          `${p.phase} (${p.action}, ${size.outagePhaseSeconds}${p.phase === 'restarted' ? ' + 2' : ''} s)`,
      ),
    },
    failover: SKIPPED_FAILOVER,
    memory: { rows: [], extrapolated360M: {} },
  };
  try {
    if (runs('cdc')) results.cdcCpu = await runCdcCpu(size, logDir);
    if (runs('scale')) results.scaleOut = await runScaleOut(size, logDir);
    if (runs('outage')) Object.assign(results.outage, await runGrpcOutage(size, logDir));
    if (runs('failover')) results.failover = await runBrokerFailover(size, logDir);
    if (runs('memory')) results.memory = await runMemory(size);
  } finally {
    await dropDatabases();
  }
  results.seconds = Math.round((Date.now() - started) / 1000);
  const day = results.date.slice(0, 10);
  const resultsFile = join(outDir, 'results', `${day}.json`);
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  const charts = reportCharts(results);
  for (const chart of charts)
    writeFileSync(join(outDir, `${chart.name}.svg`), await renderSvg(chart.spec, chart.title));
  writeFileSync(join(outDir, 'REPORT.md'), reportMarkdown(results, charts, `results/${day}.json`));
  say(
    `wrote ${relative(ROOT, resultsFile)}, ${relative(ROOT, join(outDir, 'REPORT.md'))} and ${charts.length} charts`,
  );
  print('');
  print('| CDC configuration | events/s | CPU s / 100k | x no dedup | duplicate rows |');
  print('|---|---:|---:|---:|---:|');
  for (const x of results.cdcCpu)
    print(
      `| ${x.description} | ${x.eventsPerSec} | ${x.cpuPer100k} | ${x.cpuRatio ?? '—'} | ${x.duplicateRows} |`,
    );
  print('');
  print('| scale-out store | processes | events/s | duplicate rows |');
  print('|---|---:|---:|---:|');
  for (const x of results.scaleOut)
    print(`| ${x.store} | ${x.processes} | ${x.eventsPerSec} | ${x.duplicateRows} |`);
  print('');
  print('| client | phase | success | p50 ms | p99 ms |');
  print('|---|---|---:|---:|---:|');
  for (const p of results.outage.phases)
    print(
      `| ${p.client} | ${p.phase} | ${(p.successRate * 100).toFixed(1)}% | ${p.p50Ms} | ${p.p99Ms} |`,
    );
  print('');
  const f = results.failover;
  print(
    f.ran
      ? `failover: ${f.acknowledged} acknowledged, ${f.rows} rows, lost ${f.lost}, duplicates ${f.duplicates}, longest stall ${f.stallSeconds} s`
      : `failover: not run (${f.note})`,
  );
  for (const x of results.memory.rows)
    print(`memory: ${x.config}, ${x.ids} ids: ${x.bytesPerId} B/id resident`);
  if (JSON_OUT) console.log(JSON.stringify(headline(results)));
}

main().catch(async (error: unknown) => {
  say(`failed: ${(error as Error).stack ?? String(error)}`);
  await dropDatabases().catch(() => undefined);
  process.exit(1);
});
