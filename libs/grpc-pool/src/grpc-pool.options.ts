import { status } from '@grpc/grpc-js';
import { existsSync, readFileSync } from 'node:fs';
import { GrpcPoolOptionsError } from './errors/grpc-pool.errors';
import type {
  GrpcPoolOptions,
  GrpcPoolTlsOptions,
  GrpcStatusName,
} from './interfaces/grpc-pool-options.interface';

/** Options after validation, with defaults filled in. @internal */
export interface ResolvedGrpcPoolOptions {
  name: string;
  packages: string[];
  protoPaths: string[];
  loader: NonNullable<GrpcPoolOptions['loader']>;
  targets: string[];
  size: number;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; serverName?: string };
  timeoutMs: number;
  retry: {
    maxAttempts: number;
    initialBackoffMs: number;
    maxBackoffMs: number;
    retryOn: Set<status>;
    idempotentRetryOn: Set<status>;
    attemptTimeoutMs?: number;
    budget: { ratio: number; minPerSecond: number; windowMs: number } | false;
  };
  breaker: { failureThreshold: number; ejectionMs: number };
  healthCheck: { intervalMs: number; service: string; timeoutMs: number } | false;
  maxConnectionAgeMs?: number;
  channelOptions: Record<string, string | number>;
}

const KNOWN = new Set([
  'name',
  'package',
  'protoPath',
  'loader',
  'url',
  'urls',
  'size',
  'credentials',
  'timeoutMs',
  'retry',
  'breaker',
  'healthCheck',
  'maxConnectionAgeMs',
  'keepalive',
  'channelOptions',
]);

/** Validates the options once, at bootstrap; every error names the option. @internal */
export function resolveGrpcPoolOptions(options: GrpcPoolOptions): ResolvedGrpcPoolOptions {
  const name =
    typeof options?.name === 'string' && options.name.trim() !== '' ? options.name : undefined;
  if (name === undefined)
    throw new GrpcPoolOptionsError('?', 'name', options?.name, 'expected a non-empty string');
  const fail = (option: string, value: unknown, expected: string): never => {
    throw new GrpcPoolOptionsError(name, option, value, expected);
  };
  for (const key of Object.keys(options))
    if (!KNOWN.has(key)) fail(key, undefined, 'unknown option');

  const packages = list(options.package);
  if (packages.length === 0 || packages.some((p) => typeof p !== 'string' || !/^[\w.]+$/.test(p))) {
    fail('package', options.package, 'expected a proto package name such as "users.v1"');
  }
  const protoPaths = list(options.protoPath);
  if (protoPaths.length === 0)
    fail('protoPath', options.protoPath, 'expected a path to a .proto file');
  for (const p of protoPaths) {
    if (typeof p !== 'string' || !existsSync(p)) fail('protoPath', p, 'file not found');
  }

  if (options.url !== undefined && options.urls !== undefined)
    fail('urls', options.urls, 'give either url or urls, not both');
  const targets = options.urls ?? (options.url === undefined ? [] : [options.url]);
  if (!Array.isArray(targets) || targets.length === 0)
    fail('url', options.url, 'expected a target such as "127.0.0.1:50051"');
  for (const target of targets) {
    if (!isTarget(target))
      fail(options.urls ? 'urls' : 'url', target, 'expected "host:port" or "dns:///host:port"');
  }

  const size = int(fail, 'size', options.size, 3, 1, 1_000);
  const timeoutMs = int(fail, 'timeoutMs', options.timeoutMs, 5_000, 1);
  const retry = options.retry ?? {};
  const maxAttempts = int(fail, 'retry.maxAttempts', retry.maxAttempts, 3, 1, 10);
  const initialBackoffMs = int(fail, 'retry.initialBackoffMs', retry.initialBackoffMs, 10, 0);
  const maxBackoffMs = int(fail, 'retry.maxBackoffMs', retry.maxBackoffMs, 100, 0);
  if (maxBackoffMs < initialBackoffMs)
    fail('retry.maxBackoffMs', maxBackoffMs, 'must be >= retry.initialBackoffMs');
  const attemptTimeoutMs =
    retry.attemptTimeoutMs === undefined
      ? undefined
      : int(fail, 'retry.attemptTimeoutMs', retry.attemptTimeoutMs, 0, 1);
  if (attemptTimeoutMs !== undefined && attemptTimeoutMs > timeoutMs) {
    fail('retry.attemptTimeoutMs', attemptTimeoutMs, `must not exceed timeoutMs (${timeoutMs})`);
  }
  let budget: ResolvedGrpcPoolOptions['retry']['budget'] = false;
  if (retry.budget !== false) {
    const b = retry.budget ?? {};
    const ratio = b.ratio ?? 0.2;
    if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1))
      fail('retry.budget.ratio', ratio, 'expected 0..1');
    budget = {
      ratio,
      minPerSecond: int(fail, 'retry.budget.minPerSecond', b.minPerSecond, 10, 0),
      windowMs: int(fail, 'retry.budget.windowMs', b.windowMs, 10_000, 100),
    };
  }

  const breaker = options.breaker ?? {};
  let healthCheck: ResolvedGrpcPoolOptions['healthCheck'] = false;
  if (options.healthCheck) {
    healthCheck = {
      intervalMs: int(fail, 'healthCheck.intervalMs', options.healthCheck.intervalMs, 5_000, 10),
      timeoutMs: int(fail, 'healthCheck.timeoutMs', options.healthCheck.timeoutMs, 1_000, 1),
      service: options.healthCheck.service ?? '',
    };
  }

  return {
    name,
    packages: packages as string[],
    protoPaths: protoPaths as string[],
    loader: {
      keepCase: false,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
      ...options.loader,
    },
    targets,
    size,
    tls: resolveCredentials(fail, options.credentials),
    timeoutMs,
    retry: {
      maxAttempts,
      initialBackoffMs,
      maxBackoffMs,
      retryOn: codes(fail, 'retry.retryOn', retry.retryOn, ['UNAVAILABLE']),
      idempotentRetryOn: codes(fail, 'retry.idempotentRetryOn', retry.idempotentRetryOn, [
        'DEADLINE_EXCEEDED',
        'RESOURCE_EXHAUSTED',
        'ABORTED',
      ]),
      attemptTimeoutMs,
      budget,
    },
    breaker: {
      failureThreshold: int(fail, 'breaker.failureThreshold', breaker.failureThreshold, 1, 1),
      ejectionMs: int(fail, 'breaker.ejectionMs', breaker.ejectionMs, 1_000, 1),
    },
    healthCheck,
    maxConnectionAgeMs:
      options.maxConnectionAgeMs === undefined
        ? undefined
        : int(fail, 'maxConnectionAgeMs', options.maxConnectionAgeMs, 0, 1_000),
    channelOptions: channelOptions(fail, options),
  };
}

type Fail = (option: string, value: unknown, expected: string) => never;

function resolveCredentials(
  fail: Fail,
  credentials: GrpcPoolOptions['credentials'],
): ResolvedGrpcPoolOptions['tls'] {
  if (credentials === undefined || credentials === null || typeof credentials !== 'object') {
    return fail(
      'credentials',
      credentials,
      'expected { insecure: true } or { tls: { ca?, cert?, key? } }',
    );
  }
  const insecure = 'insecure' in credentials && credentials.insecure === true;
  const tls = 'tls' in credentials ? credentials.tls : undefined;
  if (insecure && tls !== undefined)
    fail('credentials', '{ insecure, tls }', 'give insecure or tls, not both');
  if (insecure) return undefined;
  if (typeof tls !== 'object' || tls === null) {
    return fail(
      'credentials',
      credentials,
      'expected { insecure: true } or { tls: { ca?, cert?, key? } }',
    );
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    fail('credentials.tls', '{…}', 'mTLS needs both cert and key');
  }
  return {
    ca: pem(fail, 'credentials.tls.ca', tls.ca),
    cert: pem(fail, 'credentials.tls.cert', tls.cert),
    key: pem(fail, 'credentials.tls.key', tls.key),
    serverName: tls.serverName,
  };
}

/** A PEM given as contents (starts with -----BEGIN) or as a file path. */
function pem(fail: Fail, option: string, value: GrpcPoolTlsOptions['ca']): Buffer | undefined {
  if (value === undefined) return undefined;
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string' && value.includes('-----BEGIN')) return Buffer.from(value);
  if (typeof value === 'string' && existsSync(value)) return readFileSync(value);
  return fail(option, value, 'expected PEM contents or the path of a PEM file');
}

function channelOptions(fail: Fail, options: GrpcPoolOptions): Record<string, string | number> {
  const extra = options.channelOptions ?? {};
  if (typeof extra !== 'object')
    fail('channelOptions', extra, 'expected an object of grpc-js channel options');
  const keepalive = options.keepalive ?? {};
  return {
    // Faster reconnects than grpc-js' defaults (1 s, up to 120 s): an ejected connection is
    // probed after breaker.ejectionMs, and should have reconnected by then.
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 1_000,
    ...(extra as Record<string, string | number>),
    ...(keepalive.timeMs !== undefined && { 'grpc.keepalive_time_ms': keepalive.timeMs }),
    ...(keepalive.timeoutMs !== undefined && { 'grpc.keepalive_timeout_ms': keepalive.timeoutMs }),
    ...(keepalive.permitWithoutCalls !== undefined && {
      'grpc.keepalive_permit_without_calls': keepalive.permitWithoutCalls ? 1 : 0,
    }),
    // Pool-owned: each channel its own HTTP/2 connection (grpc-js otherwise shares one subchannel
    // between channels with equal options), and grpc-js' own retries off so the pool's attempts
    // are the only ones (they would multiply).
    'grpc.use_local_subchannel_pool': 1,
    'grpc.enable_retries': 0,
  };
}

function codes(
  fail: Fail,
  option: string,
  value: GrpcStatusName[] | undefined,
  fallback: GrpcStatusName[],
): Set<status> {
  const names = value ?? fallback;
  if (!Array.isArray(names)) fail(option, value, 'expected a list of gRPC status names');
  return new Set(
    names.map((n) => {
      const code = (status as unknown as Record<string, number>)[n];
      if (typeof code !== 'number' || code === status.OK)
        fail(option, n, 'unknown gRPC status name');
      return code as status;
    }),
  );
}

function int(
  fail: Fail,
  option: string,
  value: unknown,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return fail(
      option,
      value,
      `expected an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? '' : ` to ${max}`}`,
    );
  }
  return value;
}

function list<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function isTarget(target: unknown): boolean {
  if (typeof target !== 'string' || target.trim() !== target || target === '') return false;
  const hostPort = target.replace(/^(dns|ipv4|ipv6):(\/\/[^/]*\/)?/, '');
  const match = /^(\[[0-9a-fA-F:]+\]|[\w.-]+):(\d{1,5})$/.exec(hostPort);
  return match !== null && Number(match[2]) > 0 && Number(match[2]) < 65_536;
}
