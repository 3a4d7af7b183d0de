import { join } from 'node:path';
import { VERIFY_REQUESTS_METRIC } from '../../apps/auth-service/src/auth.metrics';
import { Dnsmasq } from '../support/dnsmasq';
import { DemoProcess } from './app-process';
import { metricSum } from './prometheus-text';

const READY = /auth-service listening on/;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One auth-service process of the demo: its own loopback address, the fleet's port. */
interface AuthReplica {
  name: string;
  ip: string;
  process: DemoProcess;
  /** Calls answered by earlier runs of this replica (before a SIGKILL or SIGTERM). */
  carried: number;
  /** Last count read from its /metrics in this run. */
  last: number;
}

/**
 * The demo's auth-service replicas the way a Kubernetes headless Service has them: one process
 * per loopback address (127.0.0.2…) on one gRPC port, all behind one DNS name answered by a real
 * DNS server (dnsmasq, 1 s TTL). Calls per replica come from each process's own counter
 * (`AUTH_METRICS_PORT`); a replica's count survives its SIGKILL (read right before it).
 */
export class AuthFleet {
  readonly dns = new Dnsmasq();
  readonly host = 'auth.demo.test';
  /** gRPC port of every replica (each on its own address). */
  readonly port: number;
  /** Replicas in DNS now, by name. */
  inDns: string[] = [];
  private readonly metricsPort: number;
  private readonly replicas: AuthReplica[] = [];

  constructor(
    private readonly main: string,
    private readonly secret: string,
    private readonly logDir: string,
    ports: { grpc: number; metrics: number; dns: number },
  ) {
    this.port = ports.grpc;
    this.metricsPort = ports.metrics;
    this.dns.port = ports.dns;
  }

  /** `dns:///auth.demo.test:<port>`, for AUTH_GRPC_URLS. */
  get url(): string {
    return `dns:///${this.host}:${this.port}`;
  }

  /** Starts dnsmasq and `count` replicas (auth-1 on 127.0.0.2, …), all in DNS. */
  async start(count: number): Promise<void> {
    await this.dns.start({});
    await Promise.all(Array.from({ length: count }, () => this.add()));
  }

  /** Starts the next replica and, once it serves, adds it to DNS (a scale-up). */
  async add(): Promise<string> {
    const n = this.replicas.length + 1;
    const replica: AuthReplica = {
      name: `auth-${n}`,
      ip: `127.0.0.${n + 1}`,
      carried: 0,
      last: 0,
      process: new DemoProcess(
        `auth-${n}`,
        this.main,
        {
          AUTH_GRPC_URL: `127.0.0.${n + 1}:${this.port}`,
          AUTH_INSTANCE: `auth-${n}`,
          AUTH_TOKEN_SECRET: this.secret,
          AUTH_METRICS_PORT: String(this.metricsPort),
        },
        join(this.logDir, `auth-${n}.log`),
      ),
    };
    this.replicas.push(replica);
    await replica.process.start(READY);
    this.inDns.push(replica.name);
    await this.publish();
    return replica.name;
  }

  /** `name`'s address and pid, for the log. */
  describe(name: string): string {
    const r = this.get(name);
    return `${r.name} ${r.ip}:${this.port} (pid ${r.process.pid})`;
  }

  /** SIGKILL (a crash): its address stays in DNS; the count so far is kept. */
  async kill(name: string): Promise<void> {
    const r = this.get(name);
    await this.read(r);
    await r.process.stop('SIGKILL');
    r.carried += r.last;
    r.last = 0;
  }

  /** Starts a killed replica again on the same address. */
  async restart(name: string): Promise<void> {
    await this.get(name).process.start(READY);
  }

  /**
   * A graceful removal, as Kubernetes does it: the address leaves DNS, the pod waits `graceMs`
   * (preStop), then gets SIGTERM. Returns the calls it answered during `checkMs` just before the
   * SIGTERM (0 when the client stopped calling it within the grace period).
   */
  async remove(name: string, graceMs: number, checkMs: number): Promise<number> {
    const r = this.get(name);
    this.inDns = this.inDns.filter((n) => n !== name);
    await this.publish();
    await sleep(graceMs);
    const before = await this.read(r);
    await sleep(checkMs);
    const late = (await this.read(r)) - before;
    await r.process.stop('SIGTERM');
    r.carried += r.last;
    r.last = 0;
    return late;
  }

  /** Calls each replica answered (every run of it), by name. */
  async callsByReplica(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const r of this.replicas) {
      if (r.process.running) await this.read(r).catch(() => undefined);
      out[r.name] = r.carried + r.last;
    }
    return out;
  }

  /** Stops every process (SIGTERM) and dnsmasq. */
  async stop(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.process.stop('SIGTERM')));
    await this.dns.close();
  }

  private get(name: string): AuthReplica {
    const r = this.replicas.find((x) => x.name === name);
    if (!r) throw new Error(`no auth replica ${name}`);
    return r;
  }

  private async read(r: AuthReplica): Promise<number> {
    const text = await (await fetch(`http://${r.ip}:${this.metricsPort}/metrics`)).text();
    r.last = metricSum(text, VERIFY_REQUESTS_METRIC);
    return r.last;
  }

  private publish(): Promise<void> {
    const ips = this.replicas.filter((r) => this.inDns.includes(r.name)).map((r) => r.ip);
    return this.dns.setHosts({ [this.host]: ips });
  }
}
