import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The repository root. */
export const ROOT = join(__dirname, '..', '..');
/** Where `npm run pack` writes the tarballs. */
export const PACKAGES_DIR = join(ROOT, 'dist', 'packages');

/** The Nest line a scratch app is built on and the Node binary it runs on. */
export interface ScratchTarget {
  nest: 11 | 12;
  /**
   * `@nestjs/schedule` range matching that Nest major, for an app with its own
   * `ScheduleModule.forRoot()`; undefined: the app goes without this optional peer.
   */
  schedule?: string;
  /** `commonjs` (Nest 11 default) or `module` (Nest 12 is ESM-only; an ESM app is its natural shape). */
  type: 'commonjs' | 'module';
  node: string;
}

/**
 * The first Node 20 (≥ 20.19, the first with `require(esm)` unflagged) on PATH or in
 * `PACKAGES_TEST_NODE20`: the realistic Node of a Nest 11 user. Falls back to the running Node.
 */
export function findNode20(): string {
  const candidates = [process.env.PACKAGES_TEST_NODE20, '/usr/bin/node', '/usr/local/bin/node'];
  try {
    candidates.push(...execFileSync('which', ['-a', 'node'], { encoding: 'utf8' }).split('\n'));
  } catch {
    // `which` missing or no node on PATH: the fixed candidates remain.
  }
  for (const node of candidates) {
    if (!node || !existsSync(node)) continue;
    const [major, minor] = nodeVersion(node).slice(1).split('.').map(Number);
    if (major === 20 && minor >= 19) return node;
  }
  return process.execPath;
}

/** `vX.Y.Z` of a Node binary. */
export function nodeVersion(node: string): string {
  return execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
}

/** The version the repository itself uses of a package, so a scratch install hits npm's cache. */
function repoVersion(name: string): string {
  return (
    JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
}

/** The environment of a child process without the npm_* variables of the `npm run` around us. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toLowerCase().startsWith('npm_')) env[key] = value;
  }
  return { ...env, ...extra };
}

/**
 * A Nest app created in a fresh directory outside the repository: the two tarballs plus only the
 * peers a user installs (no ioredis, no terminus, no prom-client), compiled with its own tsc.
 */
export class ScratchApp {
  readonly dir = mkdtempSync(join(tmpdir(), 'nest-resilience-pkg-'));
  private child?: ChildProcess;
  readonly lines: Array<Record<string, unknown>> = [];
  stderr = '';

  constructor(readonly target: ScratchTarget) {}

  /** Writes package.json, tsconfig and sources, then `npm install`s the tarballs and peers. */
  install(tarballs: string[]): void {
    const { nest, schedule, type } = this.target;
    writeFileSync(
      join(this.dir, 'package.json'),
      JSON.stringify({ name: `scratch-nest${nest}`, private: true, type }, null, 2),
    );
    cpSync(join(__dirname, 'app', 'tsconfig.json'), join(this.dir, 'tsconfig.json'));
    cpSync(join(__dirname, 'app', 'src'), join(this.dir, 'src'), { recursive: true });
    if (schedule) {
      cpSync(
        join(__dirname, 'app', 'extras', 'with-schedule.ts'),
        join(this.dir, 'src', 'extras.ts'),
      );
    }
    cpSync(join(ROOT, 'scripts', 'support', 'echo.proto'), join(this.dir, 'echo.proto'));
    const packages = [
      ...tarballs,
      `@nestjs/common@^${nest}.0.0`,
      `@nestjs/core@^${nest}.0.0`,
      `@nestjs/microservices@^${nest}.0.0`,
      'reflect-metadata@^0.2.0',
      'rxjs@^7.8.0',
      `kafkajs@${repoVersion('kafkajs')}`,
      `@grpc/grpc-js@^${repoVersion('@grpc/grpc-js')}`,
      `@grpc/proto-loader@^${repoVersion('@grpc/proto-loader')}`,
      `typescript@${repoVersion('typescript')}`,
      `@types/node@^${repoVersion('@types/node')}`,
      ...(schedule ? [`@nestjs/schedule@${schedule}`] : []),
    ];
    execFileSync(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...packages],
      { cwd: this.dir, env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'], timeout: 180_000 },
    );
  }

  /** Whether `name` ended up in the app's node_modules. */
  has(name: string): boolean {
    return existsSync(join(this.dir, 'node_modules', name, 'package.json'));
  }

  /** The installed version of `name`. */
  version(name: string): string {
    return (
      JSON.parse(readFileSync(join(this.dir, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  }

  /** `tsc -p .` with the app's own TypeScript (decorator metadata on); throws with tsc's output. */
  compile(): void {
    try {
      execFileSync(
        this.target.node,
        [join(this.dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', this.dir],
        { cwd: this.dir, encoding: 'utf8', timeout: 120_000 },
      );
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`tsc failed in ${this.dir}:\n${stdout ?? ''}${stderr ?? ''}`);
    }
  }

  /** Starts `node dist/main.js`; resolves once it prints its ready line. */
  async start(env: Record<string, string>, timeoutMs = 60_000): Promise<void> {
    const child = spawn(this.target.node, [join(this.dir, 'dist', 'main.js')], {
      cwd: this.dir,
      env: cleanEnv({ ...env, PROTO_PATH: join(this.dir, 'echo.proto') }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stderr!.on('data', (data: Buffer) => (this.stderr += data.toString()));
    let buffered = '';
    child.stdout!.on('data', (data: Buffer) => {
      buffered += data.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.stderr += `${line}\n`; // not one of ours: keep it for the failure message
        }
      }
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`app did not get ready in ${timeoutMs} ms:\n${this.stderr}`));
      }, timeoutMs);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`app exited with ${code} before it was ready:\n${this.stderr}`));
      });
      const poll = setInterval(() => {
        if (this.lines.some((line) => line.ready === true)) {
          clearInterval(poll);
          clearTimeout(timer);
          resolve();
        }
      }, 50);
      child.once('exit', () => clearInterval(poll));
    });
  }

  /** Ids the handler ran for, in order. */
  handled(): string[] {
    return this.lines.filter((line) => 'handled' in line).map((line) => String(line.handled));
  }

  /** SIGTERM (graceful shutdown through enableShutdownHooks), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** Deletes the scratch directory. */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
