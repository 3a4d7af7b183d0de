import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real L4 balancer (haproxy, `mode tcp`, `balance roundrobin`) on loopback in front of gRPC
 * backends: "one address, many backends" (a Kubernetes Service). Health-checks the
 * backends every 100 ms and redispatches a refused connection. Stopped by pid.
 */
export class Haproxy {
  private child?: ChildProcess;

  constructor(
    readonly port: number,
    private readonly backends: string[],
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'haproxy-'));
    const config = join(dir, 'haproxy.cfg');
    writeFileSync(
      config,
      [
        'global',
        '  maxconn 4096',
        'defaults',
        '  mode tcp',
        '  timeout connect 200ms',
        '  timeout client 60s',
        '  timeout server 60s',
        '  retries 3',
        '  option redispatch',
        'frontend grpc',
        `  bind 127.0.0.1:${this.port}`,
        '  default_backend backends',
        'backend backends',
        '  balance roundrobin',
        ...this.backends.map((b, i) => `  server b${i} ${b} check inter 100ms fall 1 rise 1`),
        '',
      ].join('\n'),
    );
    this.child = spawn('haproxy', ['-f', config, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    this.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    for (let i = 0; i < 100; i++) {
      if (this.child.exitCode !== null) throw new Error(`haproxy exited: ${stderr}`);
      if (await canConnect(this.port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`haproxy did not listen on ${this.port}: ${stderr}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
