import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

/**
 * One process of a compiled app, its output in a log file; stopped by pid (never by name).
 */
export class DemoProcess {
  private child?: ChildProcess;
  private log?: WriteStream;
  private output = '';

  constructor(
    readonly name: string,
    private readonly main: string,
    private readonly env: Record<string, string>,
    private readonly logFile: string,
  ) {}

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts it; resolves when `ready` shows in its output, rejects if it exits first. */
  start(ready: RegExp, timeoutMs = 90_000): Promise<void> {
    this.log = createWriteStream(this.logFile, { flags: 'a' });
    this.output = '';
    const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', this.main], {
      env: { ...process.env, NO_COLOR: '1', KAFKAJS_NO_PARTITIONER_WARNING: '1', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name} not ready in ${timeoutMs} ms (log: ${this.logFile})`)),
        timeoutMs,
      );
      const onData = (chunk: Buffer): void => {
        this.log?.write(chunk);
        if (this.output.length < 100_000) this.output += chunk.toString();
        if (ready.test(this.output)) {
          clearTimeout(timer);
          this.output = '';
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code ?? signal}); log: ${this.logFile}`));
      });
    });
  }

  /** Sends `signal`, waits (bounded) for the exit, SIGKILL past the bound. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    // 'close', not 'exit': the last lines (shutdown logs) may still be in the pipe at 'exit'
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
    this.log?.end();
  }
}
