import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** An echo backend in its own process (see echo-server.main.ts), killed with SIGKILL like a crash. */
export class EchoProcess {
  private child?: ChildProcess;

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
        stdio: ['ignore', 'pipe', 'inherit'],
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

  /** SIGKILL: the process dies with its connections, as a crashed pod would. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }
}
