import { signToken } from '../apps/auth-service/src/auth-token';
import { Dnsmasq } from '../scripts/support/dnsmasq';
import { KAFKA_BROKER, uniqueTopic } from './support/kcat';
import { AuthReplicas, httpLoad } from './support/user-service-auth-replicas';
import {
  AppProcess,
  E2E_TOKEN_SECRET,
  portBlock,
  USER_SERVICE_READY,
} from './support/user-service-processes';
import { sleep, waitFor } from './support/wait';

const NAME = 'auth.users.test';
const ip = (n: number): string => `127.0.0.${n}`;

/**
 * The real user-service process reaches auth-service by one DNS name (AUTH_GRPC_URLS=dns:///…),
 * answered by a real DNS server (dnsmasq, 1 s TTL), with one real auth-service process per
 * loopback address on one port — a headless Service's shape. Each auth process counts the calls
 * it answered.
 */
describe('user-service → auth-service by DNS discovery (dnsmasq, auth processes on 127.0.0.2…5)', () => {
  const topic = uniqueTopic('cdc.users.discovery');
  const [httpPort, grpcPort, authPort, metricsPort] = portBlock(4);
  const dns = new Dnsmasq();
  const auth = new AuthReplicas(authPort, metricsPort);
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  const token = signToken('caller', E2E_TOKEN_SECRET);
  const service = new AppProcess('user-service', {
    KAFKA_BROKERS: KAFKA_BROKER,
    KAFKA_GROUP_ID: `${topic}-g`,
    CDC_TOPIC: topic,
    HTTP_PORT: String(httpPort),
    GRPC_URL: `127.0.0.1:${grpcPort}`,
    AUTH_GRPC_URLS: `dns:///${NAME}:${authPort}`,
    AUTH_DNS_REFRESH_MS: '300',
  });

  /** Calls each process answered while `run` ran, by ip. */
  async function callsDuring(run: () => Promise<unknown>): Promise<Record<string, number>> {
    const before = await auth.allCalls();
    await run();
    const after = await auth.allCalls();
    return Object.fromEntries(Object.entries(after).map(([k, n]) => [k, n - (before[k] ?? 0)]));
  }

  beforeAll(async () => {
    await dns.start({ [NAME]: [2, 3, 4].map(ip) });
    service.env.AUTH_DNS_SERVERS = dns.server;
    // the fourth is up but not in DNS yet: a pod that becomes ready in a scale-up
    await Promise.all([2, 3, 4, 5].map((n) => auth.start(ip(n))));
    await service.start(USER_SERVICE_READY);
  }, 120_000);

  afterAll(async () => {
    await service.stop('SIGKILL');
    await auth.killAll();
    await dns.close();
  }, 30_000);

  it('spreads the calls over every address of the name, and /health shows each address', async () => {
    let load = { requests: 0, failures: [] as string[] };
    const calls = await callsDuring(async () => (load = await httpLoad(baseUrl, token, 3_000)));
    expect(load.failures).toEqual([]);
    expect([2, 3, 4].reduce((sum, n) => sum + calls[ip(n)], 0)).toBe(load.requests);
    // Every address takes calls. Not an equal share: peak-EWMA favours the connections answering
    // fastest, and on a shared machine one process's latency spikes shift calls for a second or
    // two (bench:discovery measures the spread itself, with round-robin).
    for (const n of [2, 3, 4]) expect(calls[ip(n)]).toBeGreaterThan(0);
    expect(calls[ip(5)]).toBe(0);
    const health = (await (await fetch(`${baseUrl}/health`)).json()) as {
      details: Record<string, { endpoints?: { address: string; state: string }[] }>;
    };
    expect(health.details['grpc-pool:auth'].endpoints).toEqual(
      [2, 3, 4].map((n) => ({ address: `${ip(n)}:${authPort}`, state: 'active', connections: 3 })),
    );
  });

  it('sends calls to a fourth address once it appears in DNS', async () => {
    let [seen, enough] = [0, false];
    const added = Date.now();
    let load = { requests: 0, failures: [] as string[] };
    const calls = await callsDuring(async () => {
      const running = httpLoad(baseUrl, token, 15_000, () => enough);
      await dns.setHosts({ [NAME]: [2, 3, 4, 5].map(ip) });
      await waitFor(async () => (await auth.calls(ip(5))) > 0, 8_000, 50);
      seen = Date.now();
      await waitFor(async () => (await auth.calls(ip(5))) >= 20, 8_000, 100);
      enough = true;
      load = await running;
    });
    expect(load.failures).toEqual([]);
    expect(seen - added).toBeLessThan(5_000); // refresh 300 ms + 1 s TTL + warm-up + slow start
    expect(calls[ip(5)]).toBeGreaterThanOrEqual(20);
  });

  it('stops calling an address that left DNS; SIGTERM to that process then fails no call', async () => {
    const removed = auth.processes.get(ip(2))!;
    let stoppedAs: number | string | null = null;
    let drained = false;
    const load = await (async () => {
      let done = false;
      const running = httpLoad(baseUrl, token, 20_000, () => done);
      await sleep(300);
      await dns.setHosts({ [NAME]: [3, 4, 5].map(ip) });
      // what Kubernetes does: the pod leaves the endpoints, preStop sleeps, then SIGTERM
      await sleep(300 + 1_000 + 700); // refresh + TTL + margin: the grace period
      const before = await auth.calls(ip(2));
      await sleep(700);
      drained = (await auth.calls(ip(2))) === before;
      stoppedAs = await removed.stop('SIGTERM', 10_000);
      await sleep(1_000);
      done = true;
      return running;
    })();
    expect(drained).toBe(true);
    expect(load.failures).toEqual([]);
    expect(load.requests).toBeGreaterThan(50);
    expect([0, 'SIGTERM']).toContain(stoppedAs); // exited by itself: graceful, not killed
    const after = await callsDuring(() => httpLoad(baseUrl, token, 1_000));
    expect(Object.keys(after).sort()).toEqual([3, 4, 5].map(ip));
    for (const n of [3, 4, 5]) expect(after[ip(n)]).toBeGreaterThan(0);
  });
});
