import type { E2eResults } from './e2e.results';
import { renderSvg, reportCharts } from './report.charts';
import { headline, reportMarkdown } from './report.markdown';

const cpu = { app: 6, postgres: 3, redis: 1, total: 10 };

/** A small results object with every part filled. */
function results(): E2eResults {
  const row = (config: string, cpuPer100k: number, cpuRatio: number, duplicateRows: number) => ({
    config,
    description: config,
    exists: true,
    produced: 1200,
    unique: 1000,
    copies: 200,
    eventsPerSec: 900,
    cpu,
    cpuPer100k,
    cpuPer100kRange: [cpuPer100k, cpuPer100k] as [number, number],
    cpuRatio,
    rows: 1000 + duplicateRows,
    duplicateRows,
    rounds: 1,
  });
  const phases = ['steady', 'one killed'];
  const clients = ['pool (defaults)', 'grpc-js round_robin + retryPolicy'];
  return {
    date: '2026-12-06T14:00:00.000Z',
    size: 'quick',
    seconds: 60,
    machine: { cpus: 2, node: 'v24', memoryGb: 24 },
    cdcCpu: [row('none', 100, 1, 200), row('memory', 80, 0.8, 0), row('inbox-batch', 45, 0.45, 0)],
    scaleOut: [1, 2, 3].flatMap((processes) =>
      (['redis', 'inbox'] as const).map((store) => ({
        store,
        processes,
        produced: 1200,
        eventsPerSec: 1000 * processes,
        rows: 1000,
        duplicateRows: 0,
      })),
    ),
    outage: {
      ratePerSec: 10,
      schedule: ['steady (…)', 'one killed (…)'],
      seconds: clients.flatMap((client) =>
        [0, 1, 2, 3].map((second) => ({
          client,
          second,
          phase: phases[second < 2 ? 0 : 1],
          sent: 10,
          ok: client.startsWith('pool') || second < 2 ? 10 : 6,
          successRate: client.startsWith('pool') || second < 2 ? 1 : 0.6,
          p50Ms: 3,
          p99Ms: 9,
        })),
      ),
      phases: clients.flatMap((client) =>
        phases.map((phase) => ({
          client,
          phase,
          sent: 20,
          ok: 20,
          successRate: client.startsWith('pool') || phase === 'steady' ? 1 : 0.6,
          p50Ms: 3,
          p99Ms: 9,
        })),
      ),
    },
    failover: {
      ran: true,
      produced: 100,
      acknowledged: 100,
      sendErrors: 0,
      rows: 100,
      distinctRows: 100,
      lost: 0,
      lostIds: [],
      lostInTopic: 0,
      recordsInTopic: 0,
      duplicates: 0,
      stallSeconds: 1.5,
      faults: [{ what: 'partition leader SIGKILLed', node: 2, atSecond: 1, stallSeconds: 1.5 }],
      progress: [0, 1, 2, 3].map((second) => ({
        second,
        rows: second * 25,
        acknowledged: second * 30,
      })),
    },
    memory: {
      rows: [
        {
          config: 'memory store',
          ids: 1e6,
          rssBytes: 3e8,
          baselineRssBytes: 2.6e8,
          beforeIdsRssBytes: 2.6e8,
          bytesPerId: 20,
          liveBytesPerId: 19,
        },
        {
          config: 'lru-cache',
          ids: 1e6,
          rssBytes: 4e8,
          baselineRssBytes: 2.6e8,
          beforeIdsRssBytes: 2.6e8,
          bytesPerId: 140,
          liveBytesPerId: 120,
        },
      ],
      extrapolated360M: { 'memory store': 7.2, 'lru-cache': 50.4 },
    },
  };
}

describe('bench:e2e report', () => {
  it('builds one chart per picture of the report from the results', () => {
    expect(reportCharts(results()).map((c) => c.name)).toEqual([
      'cdc-cpu',
      'scale-out',
      'outage-success',
      'outage-latency',
      'failover',
      'memory',
      'memory-360m',
    ]);
  });

  it('leaves out the charts of parts that did not run', () => {
    const r = results();
    r.failover = { ...r.failover, ran: false, progress: [] };
    r.memory = { rows: [], extrapolated360M: {} };
    expect(reportCharts(r).map((c) => c.name)).not.toContain('failover');
    expect(reportCharts(r).map((c) => c.name)).not.toContain('memory');
  });

  it('renders the outage chart to SVG: a line per client over the phase bands, labelled', async () => {
    const chart = reportCharts(results()).find((c) => c.name === 'outage-success')!;
    const svg = await renderSvg(chart.spec, chart.title);
    expect(svg.startsWith('<svg')).toBe(true);
    // a panel per client: its line over the 2 phase bands
    expect(svg.match(/<g class="mark-line role-mark/g)).toHaveLength(2);
    expect(svg.match(/<g class="mark-rect role-mark/g)).toHaveLength(2);
    expect(svg.match(/aria-roledescription="rect mark"/g)).toHaveLength(4);
    for (const text of [
      'pool (defaults)',
      'grpc-js round_robin + retryPolicy',
      'one killed',
      chart.title,
    ])
      expect(svg).toContain(text);
  }, 30_000);

  it('renders the CDC chart as stacked bars with each configuration and its ratio', async () => {
    const chart = reportCharts(results()).find((c) => c.name === 'cdc-cpu')!;
    const svg = await renderSvg(chart.spec, chart.title);
    expect(svg).toContain('mark-rect role-mark');
    // 3 configurations x 3 parts (app, PostgreSQL, Redis)
    expect(svg.match(/<path [^>]*aria-roledescription="bar"/g)).toHaveLength(9);
    expect(svg).toContain('0.80x');
    expect(svg).toContain('0.45x');
  }, 30_000);

  it('writes the headline figures and a report linking each chart', () => {
    const r = results();
    const charts = reportCharts(r);
    expect(headline(r)).toMatchObject({
      cdcCpuRatio: { none: 1, memory: 0.8, 'inbox-batch': 0.45 },
      duplicateRows: { none: 200, memory: 0 },
      outageSuccessRate: { 'pool (defaults)': { steady: 1, 'one killed': 1 } },
      failover: { lost: 0, duplicates: 0, stallSeconds: 1.5 },
      bytesPerIdResident: { 'memory store 1000000': 20, 'lru-cache 1000000': 140 },
    });
    const markdown = reportMarkdown(r, charts, 'results/2026-12-06.json');
    for (const c of charts) expect(markdown).toContain(`](${c.name}.svg)`);
    expect(markdown).toContain('memory store 0.80x the CPU of no dedup');
  });
});
