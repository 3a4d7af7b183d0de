import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/**
 * An echo backend in its own process (see echo-server.main.ts): killed with SIGKILL like a crash,
 * frozen with SIGSTOP (TCP stays open, nothing answers), slowed through commands on its stdin.
 */
export class EchoProcess {
  private child?: ChildProcess;
  private frozen = false;

  constructor(
    readonly name: string,
    public port = 0,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(__dirname, 'echo-server.main.ts'), this.name, String(this.port)],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
        cwd: join(__dirname, '..', '..'),
      },
    );
    this.child = child;
    this.port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not start`)), 20_000);
      child.once('exit', (code) => reject(new Error(`${this.name} exited with ${code}`)));
      child.stdout!.on('data', (data: Buffer) => {
        const match = /listening (\d+)/.exec(data.toString());
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
    });
  }

  /** Process id (undefined when not running). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** SIGSTOP: the process stops answering while the kernel keeps its TCP connections open. */
  freeze(): void {
    this.child?.kill('SIGSTOP');
    this.frozen = true;
  }

  /** SIGCONT after {@link freeze}. */
  resume(): void {
    if (!this.frozen) return;
    this.child?.kill('SIGCONT');
    this.frozen = false;
  }

  /** Sends a command (`slow 200`, `spikes 0.05 150`, `normal`) and waits for its acknowledgement. */
  async command(line: string): Promise<void> {
    const child = this.child;
    if (!child?.stdin || !child.stdout) throw new Error(`${this.name} is not running`);
    const acked = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no ack for ${line}`)), 5_000);
      const onData = (data: Buffer) => {
        if (!data.toString().includes(`ok ${line}`)) return;
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve();
      };
      child.stdout!.on('data', onData);
    });
    child.stdin.write(`${line}\n`);
    await acked;
  }

  /** SIGKILL: the process dies with its connections, as a crashed pod would. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.frozen = false;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }
}
