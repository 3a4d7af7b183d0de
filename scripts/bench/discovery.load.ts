/**
 * The load of bench:discovery: `concurrency` callers for a fixed time, every call recorded (start,
 * latency, outcome, answering backend) so that a phase can be cut into windows afterwards.
 */

/** One call: resolves with the name of the backend that answered. */
export type Call = (id: string, delayMs: number) => Promise<{ server: string }>;

export interface CallRecord {
  /** ms since the phase started. */
  at: number;
  latency: number;
  ok: boolean;
  server?: string;
}

export interface Phase {
  records: CallRecord[];
  seconds: number;
  /** Client CPU (µs, this process) per call. */
  cpuUsPerCall: number;
}

/** Runs `concurrency` callers for `durationMs` (bounded: every loop ends at the deadline). */
export async function runPhase(
  call: Call,
  durationMs: number,
  concurrency: number,
  delayMs = 0,
  during?: () => Promise<void>,
): Promise<Phase> {
  const records: CallRecord[] = [];
  const start = performance.now();
  const end = start + durationMs;
  const cpu = process.cpuUsage();
  let n = 0;
  const event = during?.();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (performance.now() < end) {
        const t = performance.now();
        const record: CallRecord = { at: t - start, latency: 0, ok: false };
        try {
          record.server = (await call(`w${w}-${n++}`, delayMs)).server;
          record.ok = true;
        } catch {
          // counted as a failure
        }
        record.latency = performance.now() - t;
        records.push(record);
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  await event;
  return {
    records,
    seconds: (performance.now() - start) / 1000,
    cpuUsPerCall: (used.user + used.system) / Math.max(1, records.length),
  };
}

/** Successful calls per backend among `records`. */
export function byServer(records: readonly CallRecord[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of records) if (r.ok) counts.set(r.server!, (counts.get(r.server!) ?? 0) + 1);
  return counts;
}

export function successRate(records: readonly CallRecord[]): number {
  return records.length === 0 ? 0 : records.filter((r) => r.ok).length / records.length;
}

export function p99(records: readonly CallRecord[]): number {
  const l = records.map((r) => r.latency).sort((a, b) => a - b);
  return l[Math.min(l.length - 1, Math.floor(0.99 * l.length))] ?? 0;
}

/** max over `servers` of |share / fair share - 1| (a backend without calls counts 1). */
export function maxDeviation(records: readonly CallRecord[], servers: readonly string[]): number {
  const counts = byServer(records);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return 1;
  const fair = total / servers.length;
  return Math.max(...servers.map((s) => Math.abs((counts.get(s) ?? 0) / fair - 1)));
}

/**
 * For each of `fresh` backends, the best share / fair share it reached in a `windowMs` window
 * starting within [fromMs, toMs); the lowest of those (0 when one never got a call).
 */
export function lowestNewShare(
  records: readonly CallRecord[],
  servers: readonly string[],
  fresh: readonly string[],
  fromMs: number,
  toMs: number,
  windowMs = 500,
): number {
  const best = new Map(fresh.map((s) => [s, 0]));
  for (let w = fromMs; w + windowMs <= toMs; w += windowMs / 2) {
    const inWindow = records.filter((r) => r.ok && r.at >= w && r.at < w + windowMs);
    if (inWindow.length === 0) continue;
    const counts = byServer(inWindow);
    const fair = inWindow.length / servers.length;
    for (const s of fresh) best.set(s, Math.max(best.get(s)!, (counts.get(s) ?? 0) / fair));
  }
  return Math.min(...best.values());
}
