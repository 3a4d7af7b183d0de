import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

/**
 * A real DNS server on loopback: dnsmasq (Debian `dnsmasq-base`) answering from a hosts file,
 * nothing else (`--no-resolv`, `--local=/test/`: other names get NXDOMAIN, never forwarded), with
 * a 1 s TTL. {@link setHosts} rewrites the file and SIGHUPs dnsmasq, which rereads it; {@link stop}
 * (SIGTERM by pid) makes lookups fail (connection refused) as in a DNS outage.
 */
export class Dnsmasq {
  port = 0;
  private child?: ChildProcess;
  private readonly dir = mkdtempSync(join(tmpdir(), 'dnsmasq-'));
  private readonly hostsFile = join(this.dir, 'hosts');

  /** `ip:port` of the server, for `discovery.servers`. */
  get server(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts dnsmasq with `records` (name → addresses); on a free port unless restarting. */
  async start(records: Record<string, string[]> = {}): Promise<void> {
    this.writeHosts(records);
    this.port ||= await freePort();
    // Debian installs it in /usr/sbin, not always on a non-root user's PATH.
    const binary = existsSync('/usr/sbin/dnsmasq') ? '/usr/sbin/dnsmasq' : 'dnsmasq';
    const child = spawn(
      binary,
      [
        '--no-daemon',
        `--port=${this.port}`,
        '--listen-address=127.0.0.1',
        '--bind-interfaces',
        '--no-resolv',
        '--no-hosts',
        '--local=/test/',
        `--addn-hosts=${this.hostsFile}`,
        '--local-ttl=1',
        '--pid-file=',
        '--conf-file=/dev/null',
        '--user=root',
        '--log-facility=-',
        '--cache-size=0',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.child = child;
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`dnsmasq did not start: ${log}`)), 10_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`dnsmasq exited with ${code}: ${log}`));
      });
      child.stderr!.on('data', (data: Buffer) => {
        log += data.toString();
        if (/read .*hosts/.test(log)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  /** Replaces every record and makes dnsmasq reread them (SIGHUP); resolves once it has. */
  async setHosts(records: Record<string, string[]>): Promise<void> {
    this.writeHosts(records);
    const child = this.child;
    if (!child) return;
    const reread = new Promise<void>((resolve) => {
      const onData = (data: Buffer) => {
        if (!/read .*hosts/.test(data.toString())) return;
        child.stderr!.off('data', onData);
        resolve();
      };
      child.stderr!.on('data', onData);
      setTimeout(resolve, 2_000).unref();
    });
    child.kill('SIGHUP');
    await reread;
  }

  /** Stops dnsmasq (by its pid) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  /** Stops dnsmasq and removes its files. */
  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private writeHosts(records: Record<string, string[]>): void {
    const lines = Object.entries(records).flatMap(([name, ips]) =>
      ips.map((ip) => `${ip} ${name}`),
    );
    writeFileSync(this.hostsFile, lines.join('\n') + '\n');
  }
}
