import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { APP_MAIN, ensureBuilt } from './user-service-build';
import { sleep } from './wait';

/** A secret the suites share with the auth-service processes they start. */
export const E2E_TOKEN_SECRET = 'e2e-secret-0123456789';

/** One process of a compiled app, with its output kept for failure messages; stopped by pid. */
export class AppProcess {
  private child?: ChildProcess;
  /** Settles once the child has exited and its output has ended (see `closed`). */
  private done?: Promise<number | string | null>;
  output = '';

  constructor(
    readonly app: keyof typeof APP_MAIN,
    readonly env: Record<string, string>,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  /** Starts the process; resolves once `ready` appears in its output (or rejects on exit). */
  start(ready: RegExp, timeoutMs = 60_000): Promise<void> {
    const main = ensureBuilt(this.app);
    this.output = '';
    const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', main], {
      env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1', NO_COLOR: '1', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const done = closed(child);
    this.done = done;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.app} not ready: ${this.tail()}`)),
        timeoutMs,
      );
      const onData = (chunk: Buffer): void => {
        this.output += chunk.toString();
        if (ready.test(this.output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      void done.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${this.app} exited (${code}): ${this.tail()}`));
      });
    });
  }

  /**
   * Sends `signal` and waits for the exit and the end of its output; returns the exit code, or the
   * signal's name when the process ended by a signal (Nest re-raises SIGTERM once its shutdown
   * hooks have run). A process that already exited on its own is only waited for.
   */
  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
    timeoutMs = 30_000,
  ): Promise<number | string | null> {
    const child = this.child;
    const exited = this.done;
    if (!child || !exited) return null;
    if (!this.running) return exited; // exited on its own: wait for the rest of its output
    child.kill(signal);
    const code = await Promise.race([exited, sleep(timeoutMs).then(() => 'timeout' as const)]);
    if (code === 'timeout') {
      child.kill('SIGKILL');
      return exited;
    }
    return code;
  }

  /** Waits for the process to exit on its own and its output to end; returns its exit code. */
  waitForExit(timeoutMs = 60_000): Promise<number | null> {
    const exited = this.done;
    if (!exited) return Promise.resolve(null);
    return Promise.race([
      exited.then((code) => (typeof code === 'number' ? code : null)),
      sleep(timeoutMs).then(() => {
        throw new Error(`${this.app} still running after ${timeoutMs} ms`);
      }),
    ]);
  }

  tail(lines = 25): string {
    return this.output.split('\n').slice(-lines).join('\n');
  }
}

/**
 * Resolves with the exit code (or signal name) once the process has exited *and* its stdout and
 * stderr have ended: `'exit'` can fire while the last lines are still in the pipe, and suites
 * assert on what a process printed while it shut down.
 */
function closed(child: ChildProcess): Promise<number | string | null> {
  return new Promise((resolve) => child.once('close', (code, sig) => resolve(code ?? sig)));
}

/** An auth-service process on `port`. */
export function authProcess(port: number): AppProcess {
  return new AppProcess('auth-service', {
    AUTH_GRPC_URL: `127.0.0.1:${port}`,
    AUTH_INSTANCE: `auth-${port}`,
    AUTH_TOKEN_SECRET: E2E_TOKEN_SECRET,
  });
}

/** The line an auth-service prints once it serves. */
export const AUTH_READY = /auth-service listening on/;

/** The line a user-service prints once HTTP, gRPC and the consumer are up. */
export const USER_SERVICE_READY = /\[user-service\] listening on/;

/**
 * Loopback ports no other suite uses: `base + i`, base drawn per run, below the Linux ephemeral
 * range (32768+), and skipping blocks where a socket already uses one of the ports (a machine's own
 * services sit there too: RabbitMQ's distribution port 25672, for one).
 */
export function portBlock(size: number): number[] {
  const used = portsInUse();
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 1_200) * 10;
    const block = Array.from({ length: size }, (_, i) => base + i);
    if (!block.some((port) => used.has(port))) return block;
  }
  throw new Error(`no free block of ${size} loopback ports in 20000-31999`);
}

/** Local ports of the machine's TCP sockets (Linux /proc; empty elsewhere). */
function portsInUse(): Set<number> {
  const ports = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let table: string;
    try {
      table = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    // `  sl  local_address rem_address st …`: local_address is HEXIP:HEXPORT
    for (const line of table.split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      if (local !== undefined) ports.add(parseInt(local.slice(local.lastIndexOf(':') + 1), 16));
    }
  }
  return ports;
}
