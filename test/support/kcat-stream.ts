import { spawn, type ChildProcess } from 'node:child_process';
import { KAFKA_BROKER } from './kcat';

/**
 * One long-running `kcat -P` fed line by line, for producing at a steady rate (a process per
 * batch would cost more than the batch). Values only: one record per line, no key, no headers.
 * Stopped by closing its input (kcat then flushes and exits); killed by pid if it does not.
 */
export class KcatStream {
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private stderr = '';

  constructor(topic: string) {
    this.child = spawn('kcat', ['-b', KAFKA_BROKER, '-P', '-t', topic, '-X', 'linger.ms=5'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Queues records (single-line values) for kcat. */
  write(values: string[]): void {
    if (values.length === 0) return;
    this.child.stdin!.write(values.join('\n') + '\n');
  }

  /** Closes kcat's input and waits (bounded) for it to deliver everything and exit. */
  async close(timeoutMs = 15_000): Promise<void> {
    this.child.stdin!.end();
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      this.exited,
      new Promise<'timeout'>(
        (resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)),
      ),
    ]);
    clearTimeout(timer);
    if (code === 'timeout') {
      this.child.kill('SIGKILL');
      throw new Error(`kcat did not exit within ${timeoutMs} ms: ${this.stderr}`);
    }
    if (code !== 0) throw new Error(`kcat exited with ${String(code)}: ${this.stderr}`);
  }
}
