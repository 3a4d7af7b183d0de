import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { sleep } from './wait';

/** The PostgreSQL every suite shares (scripts/with-services.sh makes sure it answers). */
export const PG_HOST = process.env.PGHOST_E2E ?? '127.0.0.1';
export const PG_PORT = Number(process.env.PGPORT_E2E ?? 5432);
export const PG_USER = process.env.PGUSER_E2E ?? 'postgres';

/** A `postgres://` URL of database `db` on the shared server (or on `port`). */
export function pgUrl(db: string, port = PG_PORT): string {
  return `postgres://${PG_USER}@${PG_HOST}:${port}/${db}`;
}

/** A database of its own for one suite: `inbox_e2e_<random>`, dropped by `drop()`. */
export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

/** Creates a fresh database on the server at `port` (the shared one by default). */
export async function createTestDatabase(
  prefix = 'inbox_e2e',
  port = PG_PORT,
): Promise<TestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  await admin(port, (c) => c.query(`CREATE DATABASE "${name}"`));
  return {
    name,
    url: pgUrl(name, port),
    drop: () =>
      admin(port, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(
        () => undefined,
      ),
  };
}

async function admin<T>(port: number, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: pgUrl('postgres', port) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The Debian binaries (`/usr/lib/postgresql/<version>/bin`), newest version first. */
export function postgresBin(name: string): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const bin = join(root, version, 'bin', name);
    if (existsSync(bin)) return bin;
  }
  throw new Error(`${name} not found under ${root}: install the postgresql package`);
}

/**
 * A private PostgreSQL cluster on its own loopback port, for tests that stop the server mid-stream
 * (the shared one must keep running). initdb refuses root, so as root it runs as `postgres`.
 * Stopped by pid.
 */
export class PrivatePostgres {
  private child?: ChildProcess;
  private readonly dataDir: string;
  private readonly owner?: { uid: number; gid: number };

  constructor(readonly port: number) {
    this.dataDir = mkdtempSync(join(tmpdir(), 'inbox-e2e-pg-'));
    if (process.getuid?.() === 0) {
      const ids = spawnSync('id', ['-u', 'postgres']);
      const gids = spawnSync('id', ['-g', 'postgres']);
      this.owner = { uid: Number(ids.stdout.toString()), gid: Number(gids.stdout.toString()) };
      chownSync(this.dataDir, this.owner.uid, this.owner.gid);
    }
    const init = spawnSync(
      postgresBin('initdb'),
      ['-D', this.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'],
      { ...this.owner, encoding: 'utf8' },
    );
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  }

  url(db = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${db}`;
  }

  async start(): Promise<void> {
    this.child = spawn(
      postgresBin('postgres'),
      [
        '-D',
        this.dataDir,
        '-p',
        String(this.port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${this.dataDir}`,
        '-c',
        'fsync=off',
      ],
      { ...this.owner, stdio: 'ignore' },
    );
    for (let i = 0; i < 200; i++) {
      const client = new Client({ connectionString: this.url() });
      try {
        await client.connect();
        await client.query('SELECT 1');
        return;
      } catch {
        await sleep(50);
      } finally {
        await client.end().catch(() => undefined);
      }
    }
    throw new Error(`postgres on port ${this.port} did not start`);
  }

  /** Immediate shutdown (SIGQUIT): connections drop, open transactions are lost, as in a crash. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGQUIT');
    await exited;
    this.child = undefined;
  }

  /** Stops the server and deletes its data directory. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
