/**
 * The charts of bench/REPORT.md: Vega-Lite specifications built from a results object, compiled
 * with vega-lite and rendered to SVG by vega in Node (no browser, no canvas).
 */
import type { E2eResults } from './e2e.results';

/** A Vega-Lite specification (kept loose: vega-lite's types live in an ES module). */
export type ChartSpec = Record<string, unknown>;

/** One chart of the report: its file name (without .svg), title and specification. */
export interface Chart {
  name: string;
  title: string;
  spec: ChartSpec;
}

const WIDTH = 560;
const CLIENT_COLORS = { range: ['#1b9e77', '#7570b3', '#d95f02'] };

/** Phase spans (first to last second) of the outage schedule, from the first client's seconds. */
function phaseSpans(results: E2eResults): { phase: string; start: number; end: number }[] {
  const first = results.outage.seconds[0]?.client;
  const spans: { phase: string; start: number; end: number }[] = [];
  for (const s of results.outage.seconds.filter((x) => x.client === first)) {
    const last = spans.at(-1);
    if (last && last.phase === s.phase) last.end = s.second + 1;
    else spans.push({ phase: s.phase, start: s.second, end: s.second + 1 });
  }
  return spans;
}

/** One panel per client (lines at 100% would hide each other), the phases as shaded bands. */
function outageLayer(
  results: E2eResults,
  field: 'successRate' | 'p99Ms',
  title: string,
): ChartSpec {
  const clients = [...new Set(results.outage.seconds.map((s) => s.client))];
  const spans = phaseSpans(results).map((p, i) => ({ ...p, shade: i % 2 }));
  const y =
    field === 'successRate'
      ? { field, type: 'quantitative', title, axis: { format: '%' }, scale: { domain: [0, 1] } }
      : { field, type: 'quantitative', title, scale: { type: 'log' } };
  const panel = (client: string, i: number): ChartSpec => ({
    title: { text: client, fontSize: 12, anchor: 'start', color: CLIENT_COLORS.range[i % 3] },
    width: WIDTH,
    height: 150,
    layer: [
      {
        data: { values: spans },
        mark: { type: 'rect', opacity: 0.35 },
        encoding: {
          x: { field: 'start', type: 'quantitative', title: 'seconds since the schedule started' },
          x2: { field: 'end' },
          color: {
            field: 'shade',
            type: 'nominal',
            scale: { range: ['#eeeeee', '#d9d9d9'] },
            legend: null,
          },
        },
      },
      {
        data: { values: spans },
        mark: {
          type: 'text',
          align: 'left',
          dx: 2,
          baseline: 'bottom',
          fontSize: 10,
          color: '#333',
        },
        encoding: {
          x: { field: 'start', type: 'quantitative' },
          y: { value: 148 },
          text: { field: 'phase' },
        },
      },
      {
        data: {
          values: results.outage.seconds.filter((s) => s.client === client && s[field] !== null),
        },
        mark: { type: 'line', point: true, strokeWidth: 2, color: CLIENT_COLORS.range[i % 3] },
        encoding: {
          x: { field: 'second', type: 'quantitative' },
          y,
          tooltip: [{ field: 'client' }, { field: 'phase' }, { field: field }],
        },
      },
    ],
  });
  return { vconcat: clients.map(panel), spacing: 18 };
}

/** Every chart of the report, for what the results hold. */
export function reportCharts(results: E2eResults): Chart[] {
  const charts: Chart[] = [];
  const cdc = results.cdcCpu.filter((r) => r.exists);
  if (cdc.length > 0) {
    const values = cdc.flatMap((r) =>
      (['app', 'postgres', 'redis'] as const).map((part) => ({
        config: r.description,
        part:
          part === 'app' ? 'user-service process' : part === 'postgres' ? 'PostgreSQL' : 'Redis',
        seconds: r.cpu.total > 0 ? (r.cpu[part] / r.cpu.total) * r.cpuPer100k : 0,
      })),
    );
    const labels = cdc.map((r) => ({
      config: r.description,
      total: r.cpuPer100k,
      label: `${r.cpuPer100k.toFixed(1)} s${r.cpuRatio !== null && r.config !== 'none' ? ` (${r.cpuRatio.toFixed(2)}x)` : ''} · ${r.duplicateRows.toLocaleString('en-US')} dup rows`,
    }));
    // the issue's targets, against no dedup of the same run
    const none = cdc.find((r) => r.config === 'none');
    const targets = none
      ? [
          { at: none.cpuPer100k * 0.85, label: 'target memory ≤ 0.85x', side: 'right' },
          { at: none.cpuPer100k * 0.5, label: 'target inbox batch ≤ 0.5x', side: 'left' },
        ]
      : [];
    /** A line's label above the plot, on the line's `side` (labels of close lines stay apart). */
    const lineLabels = (side: 'left' | 'right', color: string) => ({
      data: { values: targets.filter((t) => t.side === side) },
      mark: {
        type: 'text',
        align: side === 'right' ? 'left' : 'right',
        baseline: 'bottom',
        dx: side === 'right' ? 2 : -2,
        dy: -2,
        fontSize: 10,
        color,
      },
      encoding: {
        x: { field: 'at', type: 'quantitative' },
        y: { value: 0 },
        text: { field: 'label' },
      },
    });
    charts.push({
      name: 'cdc-cpu',
      title: 'CPU seconds per 100,000 CDC events, by dedup configuration',
      spec: {
        width: WIDTH,
        height: 40 * cdc.length,
        layer: [
          {
            data: { values },
            mark: 'bar',
            encoding: {
              y: { field: 'config', type: 'nominal', sort: null, title: null },
              x: {
                field: 'seconds',
                type: 'quantitative',
                stack: 'zero',
                title: 'CPU seconds per 100,000 produced events',
              },
              color: {
                field: 'part',
                type: 'nominal',
                title: 'where the CPU went',
                legend: { orient: 'bottom' },
              },
            },
          },
          {
            data: { values: labels },
            mark: { type: 'text', align: 'left', dx: 4, fontSize: 11 },
            encoding: {
              y: { field: 'config', type: 'nominal', sort: null },
              x: { field: 'total', type: 'quantitative' },
              text: { field: 'label' },
            },
          },
          {
            data: { values: targets },
            mark: { type: 'rule', strokeDash: [5, 3], color: '#333' },
            encoding: { x: { field: 'at', type: 'quantitative' } },
          },
          lineLabels('right', '#333'),
          lineLabels('left', '#333'),
        ],
      },
    });
  }
  if (results.scaleOut.length > 0) {
    const values = results.scaleOut.map((r) => ({
      ...r,
      store: r.store === 'redis' ? 'Redis store' : 'PostgreSQL inbox',
      label: `${r.eventsPerSec.toLocaleString('en-US')}/s · ${r.duplicateRows} dup`,
    }));
    charts.push({
      name: 'scale-out',
      title: 'Throughput by number of user-service processes in one consumer group',
      spec: {
        width: WIDTH,
        height: 260,
        data: { values },
        encoding: {
          x: {
            field: 'processes',
            type: 'ordinal',
            title: 'user-service processes (one consumer group, 3 partitions)',
            axis: { labelAngle: 0 },
          },
          xOffset: { field: 'store' },
          y: {
            field: 'eventsPerSec',
            type: 'quantitative',
            title: 'events per second (copies included)',
          },
          color: {
            field: 'store',
            type: 'nominal',
            title: 'shared dedup store',
            legend: { orient: 'bottom' },
          },
        },
        layer: [
          { mark: 'bar' },
          { mark: { type: 'text', dy: -6, fontSize: 10 }, encoding: { text: { field: 'label' } } },
        ],
      },
    });
  }
  if (results.outage.seconds.length > 0) {
    charts.push({
      name: 'outage-success',
      title: 'GET /users/:id success rate per second while auth processes fail',
      spec: outageLayer(results, 'successRate', 'requests answered 200 (per second)'),
    });
    charts.push({
      name: 'outage-latency',
      title: 'p99 latency per second while auth processes fail (log scale)',
      spec: outageLayer(results, 'p99Ms', 'p99 latency, ms (per second)'),
    });
  }
  if (results.failover.ran && results.failover.progress.length > 0) {
    const f = results.failover;
    const values = f.progress.flatMap((p) => [
      { second: p.second, count: p.acknowledged, series: 'acknowledged to the producer' },
      {
        second: p.second,
        count: p.rows,
        series: 'handled by user-service (redeliveries included)',
      },
    ]);
    charts.push({
      name: 'failover',
      title: 'Records acknowledged vs handled while brokers are SIGKILLed',
      spec: {
        width: WIDTH,
        height: 260,
        layer: [
          {
            data: { values },
            mark: { type: 'line', strokeWidth: 2 },
            encoding: {
              x: {
                field: 'second',
                type: 'quantitative',
                title: 'seconds since production started',
              },
              y: { field: 'count', type: 'quantitative', title: 'records' },
              color: {
                field: 'series',
                type: 'nominal',
                title: null,
                legend: { orient: 'bottom' },
              },
            },
          },
          {
            data: { values: f.faults },
            mark: { type: 'rule', strokeDash: [4, 3], color: '#c00' },
            encoding: { x: { field: 'atSecond', type: 'quantitative' } },
          },
          {
            data: {
              values: f.faults.map((x, i) => ({
                ...x,
                label: `${x.what} (node ${x.node}) · longest stall after it ${x.stallSeconds} s`,
                labelY: 10 + 14 * i,
              })),
            },
            mark: { type: 'text', align: 'left', dx: 3, fontSize: 10, color: '#c00' },
            encoding: {
              x: { field: 'atSecond', type: 'quantitative' },
              y: { field: 'labelY', type: 'quantitative', scale: null },
              text: { field: 'label' },
            },
          },
        ],
      },
    });
  }
  if (results.memory.rows.length > 0) {
    const values = results.memory.rows.map((r) => ({
      ...r,
      ids: `${(r.ids / 1e6).toLocaleString('en-US')} M ids`,
      mb: Math.max(0, (r.bytesPerId * r.ids) / 1e6),
      label: `${r.bytesPerId.toFixed(0)} B/id`,
    }));
    charts.push({
      name: 'memory',
      title: 'Resident memory the live ids add to the app',
      spec: {
        width: WIDTH,
        height: 240,
        data: { values },
        encoding: {
          x: {
            field: 'ids',
            type: 'ordinal',
            title: 'live ids held',
            axis: { labelAngle: 0 },
            sort: null,
          },
          xOffset: { field: 'config' },
          y: { field: 'mb', type: 'quantitative', title: 'resident MB added by the ids' },
          color: {
            field: 'config',
            type: 'nominal',
            title: 'dedup set',
            legend: { orient: 'bottom' },
          },
        },
        layer: [
          { mark: 'bar' },
          { mark: { type: 'text', dy: -6, fontSize: 10 }, encoding: { text: { field: 'label' } } },
        ],
      },
    });
    const extrapolated = [
      { what: "original design's estimate", gb: 36 },
      ...Object.entries(results.memory.extrapolated360M).map(([config, gb]) => ({
        what: `${config} (measured B/id × 360 M)`,
        gb,
      })),
    ];
    charts.push({
      name: 'memory-360m',
      title: 'Memory for 360 M live ids: the estimate vs extrapolated from measurements',
      spec: {
        width: WIDTH,
        height: 30 * extrapolated.length,
        data: { values: extrapolated.map((e) => ({ ...e, label: `${e.gb.toFixed(1)} GB` })) },
        encoding: {
          y: { field: 'what', type: 'nominal', sort: null, title: null },
          x: { field: 'gb', type: 'quantitative', title: 'GB for 360,000,000 ids' },
        },
        layer: [
          { mark: { type: 'bar', color: '#4c78a8' } },
          {
            mark: { type: 'text', align: 'left', dx: 4, fontSize: 11 },
            encoding: { text: { field: 'label' } },
          },
        ],
      },
    });
  }
  return charts;
}

/** Compiles a Vega-Lite specification and renders it to an SVG string (vega's headless view). */
export async function renderSvg(spec: ChartSpec, title?: string): Promise<string> {
  const vegaLite = await import('vega-lite');
  const vega = await import('vega');
  const full = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(title ? { title: { text: title, anchor: 'start', fontSize: 14 } } : {}),
    background: 'white',
    padding: 12,
    // no label cut short with an ellipsis: a reader needs every configuration's whole name
    config: { legend: { labelLimit: 0, titleLimit: 0 }, axis: { labelLimit: 0 } },
    ...spec,
  };
  const compiled = vegaLite.compile(full as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
