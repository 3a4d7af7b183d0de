/**
 * Sum of a metric's samples in a Prometheus text exposition, over the series whose labels include
 * `labels`. 0 when the metric is absent.
 *
 * @example metricSum(text, 'kafka_event_deduplicated_total', { topic: 'cdc.users' })
 */
export function metricSum(
  exposition: string,
  name: string,
  labels: Record<string, string> = {},
): number {
  let sum = 0;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const series = Object.fromEntries(
      [...(match[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => series[k] === v)) sum += Number(match[4]);
  }
  return sum;
}

/** Every metric name (family) in an exposition, from its `# TYPE` lines. */
export function metricNames(exposition: string): Set<string> {
  return new Set([...exposition.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
}
