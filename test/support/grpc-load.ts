import type { EchoClient } from '../../scripts/support/grpc-backend';

/** Outcome of a bounded load on a pooled echo client. */
export interface LoadResult {
  ok: number;
  failed: number;
  /** Failures by `code: message`. */
  errors: Map<string, number>;
  /** Successful calls per backend name. */
  byServer: Map<string, number>;
  /** Latency of every call, in ms, sorted. */
  latencies: number[];
}

/**
 * A bounded load: `workers` concurrent callers, each calling until `durationMs` passes or
 * `maxCalls` calls were made in all; every loop stops by itself.
 */
export async function load(
  call: (id: string) => ReturnType<EchoClient['ping']>,
  durationMs: number,
  workers = 8,
  maxCalls = 20_000,
): Promise<LoadResult> {
  const result: LoadResult = {
    ok: 0,
    failed: 0,
    errors: new Map(),
    byServer: new Map(),
    latencies: [],
  };
  const end = Date.now() + durationMs;
  let calls = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (Date.now() < end && calls < maxCalls) {
        calls++;
        const started = performance.now();
        try {
          const reply = await call(`w${w}-${calls}`);
          result.ok++;
          result.byServer.set(reply.server, (result.byServer.get(reply.server) ?? 0) + 1);
        } catch (error) {
          result.failed++;
          const key = `${(error as { code?: number }).code}: ${(error as Error).message}`;
          result.errors.set(key, (result.errors.get(key) ?? 0) + 1);
        }
        result.latencies.push(performance.now() - started);
      }
    }),
  );
  result.latencies.sort((a, b) => a - b);
  return result;
}

/** The q-quantile (0..1) of sorted latencies. */
export function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}
