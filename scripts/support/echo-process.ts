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
    /** Loopback address to bind: 127.0.0.2…127.0.0.9 give each backend its own address. */
    readonly host = '127.0.0.1',
    /** The server's HTTP/2 stream limit (`grpc.max_concurrent_streams`). */
    private readonly maxConcurrentStreams?: number,
  ) {}

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  async start(): Promise<void> {
    const args = [join(__dirname, 'echo-server.main.ts'), this.name, String(this.port), this.host];
    if (this.maxConcurrentStreams) args.push(String(this.maxConcurrentStreams));
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
      cwd: join(__dirname, '..', '..'),
    });
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

  /**
   * SIGTERM: the server sends GOAWAY, lets its calls in flight finish and exits (Kubernetes'
   * graceful termination). Resolves when the process has exited.
   */
  async terminate(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    this.child = undefined;
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
