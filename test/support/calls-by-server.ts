import type { EchoClient } from '../../scripts/support/grpc-backend';

/** Outcome of a bounded load: successes per backend name, failures with their messages. */
export interface ServerLoad {
  ok: number;
  failed: number;
  errors: Map<string, number>;
  byServer: Map<string, number>;
}

/**
 * `workers` concurrent callers, each calling until `durationMs` passes or `stop()` returns true;
 * every loop ends by itself. `onReply` sees each reply as it arrives (a test waits on it).
 */
export async function callsByServer(
  echo: EchoClient,
  durationMs: number,
  options: {
    workers?: number;
    delayMs?: number;
    stop?: () => boolean;
    onReply?: (server: string) => void;
  } = {},
): Promise<ServerLoad> {
  const { workers = 8, delayMs = 0, stop = () => false, onReply } = options;
  const result: ServerLoad = { ok: 0, failed: 0, errors: new Map(), byServer: new Map() };
  const end = Date.now() + durationMs;
  let calls = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (Date.now() < end && !stop()) {
        calls++;
        try {
          const reply = await echo.ping({ id: `w${w}-${calls}`, delayMs }, { deadline: 3_000 });
          result.ok++;
          result.byServer.set(reply.server, (result.byServer.get(reply.server) ?? 0) + 1);
          onReply?.(reply.server);
        } catch (error) {
          result.failed++;
          const key = `${(error as { code?: number }).code}: ${(error as Error).message}`;
          result.errors.set(key, (result.errors.get(key) ?? 0) + 1);
        }
      }
    }),
  );
  return result;
}
