/**
 * Part 3 of `npm run bench:e2e`: `GET /users/:id` (a bearer token verified by auth-service over
 * gRPC, then the read model) at a fixed request rate while the 3 auth-service processes
 * (127.0.0.2…4, one port) are killed one at a time, two at once, restarted, one frozen (SIGSTOP)
 * and thawed; through the pool (defaults), `GRPC_POOL_SIZE=1`, and plain grpc-js
 * (`AUTH_CLIENT=grpc-js`: `round_robin` + `retryPolicy`). Success = HTTP 200 with the user.
 */
import { join } from 'node:path';
import { signToken } from '../../../apps/auth-service/src/auth-token';
import { DemoProcess } from '../../demo/app-process';
import { freePort } from '../../support/free-port';
import type { E2eSize } from './e2e.size';
import type { OutagePhase, OutageSecond } from './e2e.results';
import {
  AUTH_MAIN,
  BROKER,
  RUN,
  createDatabase,
  quantile,
  round,
  say,
  sleep,
  UserServiceProcess,
  withPg,
} from './e2e.support';

const SECRET = 'bench-e2e-token-secret-0123456789';
const USER = 'outage-user';

export const OUTAGE_CLIENTS: { client: string; env: Record<string, string> }[] = [
  { client: 'pool (defaults)', env: {} },
  { client: 'pool, GRPC_POOL_SIZE=1', env: { GRPC_POOL_SIZE: '1' } },
  { client: 'grpc-js round_robin + retryPolicy', env: { AUTH_CLIENT: 'grpc-js' } },
];

/** The phases in order: what happens at the start of each. */
export const OUTAGE_PHASES: { phase: string; action: string }[] = [
  { phase: 'steady', action: '3 auth processes serve' },
  { phase: 'one killed', action: 'SIGKILL auth-1' },
  { phase: 'two killed', action: 'SIGKILL auth-2 (auth-3 alone)' },
  { phase: 'restarted', action: 'auth-1 and auth-2 started again' },
  { phase: 'one frozen', action: 'SIGSTOP auth-3 (connections open, no answer)' },
  { phase: 'thawed', action: 'SIGCONT auth-3' },
];

class AuthFleet {
  readonly processes: DemoProcess[];

  constructor(
    readonly port: number,
    logDir: string,
  ) {
    this.processes = [2, 3, 4].map(
      (n) =>
        new DemoProcess(
          `auth-${n - 1}`,
          AUTH_MAIN,
          {
            AUTH_GRPC_URL: `127.0.0.${n}:${port}`,
            AUTH_INSTANCE: `auth-${n - 1}`,
            AUTH_TOKEN_SECRET: SECRET,
          },
          join(logDir, `outage-auth-${n - 1}.log`),
        ),
    );
  }

  get urls(): string {
    return [2, 3, 4].map((n) => `127.0.0.${n}:${this.port}`).join(',');
  }

  async ensureRunning(): Promise<void> {
    for (const p of this.processes) {
      signal(p, 'SIGCONT');
      if (!p.running) await p.start(/auth-service listening on/);
    }
  }

  async stop(): Promise<void> {
    for (const p of this.processes) signal(p, 'SIGCONT');
    await Promise.all(this.processes.map((p) => p.stop('SIGTERM')));
  }
}

function signal(p: DemoProcess, sig: NodeJS.Signals): void {
  try {
    if (p.pid && p.running) process.kill(p.pid, sig);
  } catch {
    // exited
  }
}

interface Sample {
  at: number;
  ms: number;
  ok: boolean;
}

/** Fires `rate` requests a second (open loop: a slow answer does not slow the sending) until `stop()`. */
function load(url: string, token: string, rate: number, timeoutMs: number) {
  const samples: Sample[] = [];
  const inFlight = new Set<Promise<void>>();
  const start = Date.now();
  let sent = 0;
  const fire = (): void => {
    const at = Date.now();
    const p = fetch(url, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(timeoutMs),
    })
      .then(async (res) => {
        const body = (await res.json()) as { id?: string };
        samples.push({ at, ms: Date.now() - at, ok: res.status === 200 && body.id === USER });
      })
      .catch(() => {
        samples.push({ at, ms: Date.now() - at, ok: false });
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - start) * rate) / 1000);
    while (sent < due) {
      fire();
      sent++;
    }
  }, 5);
  return {
    samples,
    async stop(): Promise<void> {
      clearInterval(timer);
      await Promise.all(inFlight);
    },
  };
}

/** Runs the schedule through every client; per-second and per-phase figures. */
export async function runGrpcOutage(
  size: E2eSize,
  logDir: string,
): Promise<{ seconds: OutageSecond[]; phases: OutagePhase[] }> {
  const fleet = new AuthFleet(await freePort(), logDir);
  const db = await createDatabase('outage');
  const token = signToken('bench-caller', SECRET);
  const out = { seconds: [] as OutageSecond[], phases: [] as OutagePhase[] };
  const P = size.outagePhaseSeconds * 1000;
  try {
    for (const { client, env } of OUTAGE_CLIENTS) {
      await fleet.ensureRunning();
      const app = new UserServiceProcess(
        `outage-${client.replace(/\W+/g, '-')}`,
        {
          ...env,
          DATABASE_URL: db.url,
          KAFKA_BROKERS: BROKER,
          CDC_TOPIC: `bench-e2e-${RUN}-outage`,
          KAFKA_GROUP_ID: `bench-e2e-${RUN}-outage`,
          AUTH_GRPC_URLS: fleet.urls,
        },
        logDir,
      );
      try {
        await app.start();
        await withPg(db.name, (c) =>
          c.query(
            `INSERT INTO users (id, email, name, source_lsn) VALUES ($1, 'o@example.com', 'Outage', 1) ON CONFLICT DO NOTHING`,
            [USER],
          ),
        );
        const url = `${app.base}/users/${USER}`;
        const warm = load(url, token, size.outageRate, 5000);
        await sleep(2000);
        await warm.stop();
        const run = load(url, token, size.outageRate, 5000);
        const t0 = Date.now();
        const phaseStarts: number[] = [];
        const [a1, a2, a3] = fleet.processes;
        for (const [i, { phase }] of OUTAGE_PHASES.entries()) {
          phaseStarts.push(Date.now() - t0);
          say(`outage ${client}: ${phase}`);
          if (i === 1) await a1.stop('SIGKILL');
          if (i === 2) await a2.stop('SIGKILL');
          if (i === 3)
            for (const p of [a1, a2])
              p.start(/auth-service listening on/).catch((e: unknown) =>
                say(`restart: ${String(e)}`),
              );
          if (i === 4) signal(a3, 'SIGSTOP');
          if (i === 5) signal(a3, 'SIGCONT');
          await sleep(Math.max(0, t0 + (i + 1) * P + (i >= 3 ? 2000 : 0) - Date.now()));
        }
        await run.stop();
        const phaseOf = (ms: number): string => {
          let k = 0;
          while (k + 1 < phaseStarts.length && ms >= phaseStarts[k + 1]) k++;
          return OUTAGE_PHASES[k].phase;
        };
        const samples = run.samples.map((s) => ({ ...s, rel: s.at - t0 }));
        const bySecond = new Map<number, typeof samples>();
        for (const s of samples) {
          const sec = Math.floor(s.rel / 1000);
          bySecond.set(sec, [...(bySecond.get(sec) ?? []), s]);
        }
        for (const [second, list] of [...bySecond].sort((a, b) => a[0] - b[0])) {
          const ok = list.filter((s) => s.ok);
          out.seconds.push({
            client,
            second,
            phase: phaseOf(second * 1000),
            sent: list.length,
            ok: ok.length,
            successRate: round(ok.length / list.length, 4),
            ...latencyOf(list),
          });
        }
        for (const { phase } of OUTAGE_PHASES) {
          const list = samples.filter((s) => phaseOf(s.rel) === phase);
          const ok = list.filter((s) => s.ok).length;
          const row: OutagePhase = {
            client,
            phase,
            sent: list.length,
            ok,
            successRate: list.length ? round(ok / list.length, 4) : 0,
            ...latencyOf(list),
          };
          out.phases.push(row);
          say(
            `outage ${client} / ${phase}: ${(row.successRate * 100).toFixed(1)}% of ${row.sent}, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms`,
          );
        }
      } finally {
        for (const p of fleet.processes) signal(p, 'SIGCONT');
        await app.stop();
      }
    }
  } finally {
    await fleet.stop();
  }
  return out;
}

/** p50 and p99 of the samples' latencies, in ms (null for none). */
function latencyOf(list: readonly { ms: number }[]): {
  p50Ms: number | null;
  p99Ms: number | null;
} {
  if (list.length === 0) return { p50Ms: null, p99Ms: null };
  const ms = list.map((s) => s.ms);
  return { p50Ms: round(quantile(ms, 0.5), 1), p99Ms: round(quantile(ms, 0.99), 1) };
}
