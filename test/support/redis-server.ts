import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { sleep } from './wait';

/** The Redis every suite shares (scripts/with-services.sh makes sure it answers). */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * A private redis-server on its own loopback port, for tests that stop Redis mid-stream, need a
 * password, an ACL user or TLS (the shared one must keep running). Stopped by pid.
 */
export class PrivateRedis {
  private child?: ChildProcess;

  /**
   * @param args extra redis-server arguments, e.g. `['--requirepass', 'secret']`; with
   * `--tls-port`, give `--port 0` too and the TLS port as `port`.
   */
  constructor(
    readonly port: number,
    readonly args: string[] = [],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    if (!this.args.includes('--port')) args.push('--port', String(this.port));
    this.child = spawn('redis-server', [...args, ...this.args], { stdio: 'ignore' });
    // A TCP probe: works whatever the server asks of its clients (a password, TLS).
    for (let i = 0; i < 100; i++) {
      if (await accepts(this.port)) return;
      await sleep(50);
    }
    throw new Error(`redis-server on port ${this.port} did not start`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
