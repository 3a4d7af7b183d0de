import { metricSum } from '../../scripts/demo/prometheus-text';
import { VERIFY_REQUESTS_METRIC } from '../../apps/auth-service/src/auth.metrics';
import { AppProcess, AUTH_READY, E2E_TOKEN_SECRET } from './user-service-processes';

/**
 * auth-service replicas as a headless Service has them: one process per loopback address
 * (127.0.0.2…N) on one gRPC port, each counting the calls it answered on AUTH_METRICS_PORT.
 */
export class AuthReplicas {
  readonly processes = new Map<string, AppProcess>(); // by ip

  constructor(
    readonly grpcPort: number,
    private readonly metricsPort: number,
  ) {}

  /** Starts one auth-service process on `ip` (instance name `auth-<last octet>`). */
  async start(ip: string): Promise<AppProcess> {
    const app =
      this.processes.get(ip) ??
      new AppProcess('auth-service', {
        AUTH_GRPC_URL: `${ip}:${this.grpcPort}`,
        AUTH_INSTANCE: `auth-${ip.split('.').pop()}`,
        AUTH_TOKEN_SECRET: E2E_TOKEN_SECRET,
        AUTH_METRICS_PORT: String(this.metricsPort),
      });
    this.processes.set(ip, app);
    await app.start(AUTH_READY);
    return app;
  }

  /** VerifyToken calls the process on `ip` answered since it started. */
  async calls(ip: string): Promise<number> {
    const text = await (await fetch(`http://${ip}:${this.metricsPort}/metrics`)).text();
    return metricSum(text, VERIFY_REQUESTS_METRIC);
  }

  /** {@link calls} of every running process, by ip. */
  async allCalls(): Promise<Record<string, number>> {
    const running = [...this.processes].filter(([, p]) => p.running);
    const counts = await Promise.all(running.map(([ip]) => this.calls(ip)));
    return Object.fromEntries(running.map(([ip], i) => [ip, counts[i]]));
  }

  /** SIGKILLs every process still running. */
  async killAll(): Promise<void> {
    await Promise.all([...this.processes.values()].map((p) => p.stop('SIGKILL')));
  }
}

/** What {@link httpLoad} saw: requests, and every answer that was not the expected one. */
export interface HttpLoadResult {
  requests: number;
  failures: string[];
}

/**
 * `workers` callers of `GET <baseUrl>/users/<id>` with a valid bearer token until `stop()` or
 * `maxMs`: every request needs auth-service (the token is verified first); 404 (no such user)
 * is the expected answer, anything else a failure.
 */
export async function httpLoad(
  baseUrl: string,
  token: string,
  maxMs: number,
  stop: () => boolean = () => false,
  workers = 4,
): Promise<HttpLoadResult> {
  const result: HttpLoadResult = { requests: 0, failures: [] };
  const ends = Date.now() + maxMs;
  const worker = async (): Promise<void> => {
    while (Date.now() < ends && !stop()) {
      result.requests++;
      try {
        const res = await fetch(`${baseUrl}/users/nobody`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const body = await res.text();
        if (res.status !== 404) result.failures.push(`${res.status} ${body.slice(0, 200)}`);
      } catch (error) {
        result.failures.push(String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return result;
}
