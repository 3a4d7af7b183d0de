import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './wait';

/**
 * A throw-away Redis Cluster of `size` masters on loopback ports (no replicas), each node a
 * redis-server process in a temp dir, created with `redis-cli --cluster create`. Stopped by pid.
 */
export class PrivateRedisCluster {
  private readonly children: ChildProcess[] = [];
  private dir?: string;

  constructor(
    readonly firstPort: number,
    readonly size = 3,
  ) {}

  get ports(): number[] {
    return Array.from({ length: this.size }, (_, i) => this.firstPort + i);
  }

  /** `host:port` of every node. */
  get nodes(): string[] {
    return this.ports.map((port) => `127.0.0.1:${port}`);
  }

  async start(): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
    this.dir = dir;
    for (const port of this.ports) {
      this.children.push(
        spawn(
          'redis-server',
          [
            '--bind',
            '127.0.0.1',
            '--port',
            String(port),
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${port}.conf`,
            '--cluster-node-timeout',
            '2000',
            '--save',
            '',
            '--appendonly',
            'no',
            '--dir',
            dir,
          ],
          { stdio: 'ignore' },
        ),
      );
    }
    for (const port of this.ports) await this.waitFor(port, (out) => out.trim() === 'PONG', 'ping');
    execFileSync(
      'redis-cli',
      ['--cluster', 'create', ...this.nodes, '--cluster-replicas', '0', '--cluster-yes'],
      { stdio: 'pipe', timeout: 30_000 },
    );
    for (const port of this.ports) {
      await this.waitFor(port, (out) => out.includes('cluster_state:ok'), 'cluster', 'info');
    }
  }

  /** Stops every node by pid and removes the temp dir. */
  async stop(): Promise<void> {
    await Promise.all(
      this.children.splice(0).map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }),
    );
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Keys held by each master, in port order. */
  keyCounts(): number[] {
    return this.ports.map((port) =>
      Number(
        execFileSync('redis-cli', ['-p', String(port), 'dbsize'], { encoding: 'utf8' }).trim(),
      ),
    );
  }

  /** Keys matching `pattern` on all masters, and how many of them have no TTL. */
  keysAndTtls(pattern: string): { keys: number; withoutTtl: number } {
    const script =
      "local n, m = 0, 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do n = n + 1 if redis.call('PTTL', k) < 0 then m = m + 1 end end return {n, m}";
    let keys = 0;
    let withoutTtl = 0;
    for (const port of this.ports) {
      const out = execFileSync('redis-cli', ['-p', String(port), 'eval', script, '0', pattern], {
        encoding: 'utf8',
      });
      const [n, m] = out.trim().split(/\s+/).map(Number);
      keys += n;
      withoutTtl += m;
    }
    return { keys, withoutTtl };
  }

  private async waitFor(
    port: number,
    ok: (output: string) => boolean,
    ...command: string[]
  ): Promise<void> {
    for (let i = 0; i < 200; i++) {
      try {
        const out = execFileSync('redis-cli', ['-p', String(port), ...command], {
          encoding: 'utf8',
          stdio: 'pipe',
        });
        if (ok(out)) return;
      } catch {
        // not up yet
      }
      await sleep(50);
    }
    throw new Error(`redis cluster node ${port}: "${command.join(' ')}" never succeeded`);
  }
}
