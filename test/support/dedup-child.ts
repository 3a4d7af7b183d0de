import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildSpec } from './dedup-consumer.main';

/** One side effect of a child consumer: the id and when it ran (epoch ms). */
export interface Effect {
  id: string;
  at: number;
}

/**
 * A deduplicated Nest Kafka consumer in its own process (see dedup-consumer.main.ts), so a test
 * can SIGKILL it like a crashed pod or SIGTERM it like a deploy. Stopped by pid.
 */
export class DedupChild {
  private child?: ChildProcess;
  output = '';

  constructor(readonly spec: ChildSpec) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process; resolves once its consumer listens. */
  start(timeoutMs = 60_000): Promise<void> {
    const root = join(__dirname, '..', '..');
    const child = spawn(
      process.execPath,
      [
        '--disable-warning=TimeoutNegativeWarning',
        '-r',
        join(__dirname, 'ts-metadata-register.js'),
        join(__dirname, 'dedup-consumer.main.ts'),
      ],
      {
        cwd: root,
        env: {
          ...process.env,
          DEDUP_CHILD_SPEC: JSON.stringify(this.spec),
          KAFKAJS_NO_PARTITIONER_WARNING: '1',
          NO_COLOR: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    this.output = '';
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`child not ready: ${this.output.slice(-2000)}`)),
        timeoutMs,
      );
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`child exited (${code ?? signal}): ${this.output.slice(-2000)}`));
      });
      const onData = (): void => {
        if (/^ready$/m.test(this.output)) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
    });
  }

  /** Sends `signal` and waits for the process to exit. */
  async stop(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 30_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
    this.child = undefined;
  }

  /** Side effects written so far (by every process that shared the file). */
  effects(): Effect[] {
    const file = this.spec.effectsFile;
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [id, at] = line.split(' ');
        return { id, at: Number(at) };
      });
  }
}
