import { status } from '@grpc/grpc-js';
import { existsSync, readFileSync } from 'node:fs';
import { GrpcPoolOptionsError } from './errors/grpc-pool.errors';
import type { BreakerSettings } from './pool/connection-breaker';
import {
  resolveDiscovery,
  resolveSizing,
  type ResolvedDiscovery,
  type ResolvedSizing,
} from './discovery/discovery.options';
import type {
  GrpcPoolHedgingOptions,
  GrpcPoolOptions,
  GrpcPoolTlsOptions,
  GrpcStatusName,
} from './interfaces/grpc-pool-options.interface';

/** A hedging policy after validation. @internal */
export interface ResolvedHedging {
  maxAttempts: number;
  hedgingDelayMs: number;
  nonFatalStatusCodes: Set<status>;
}

/** Options after validation, with defaults filled in. @internal */
export interface ResolvedGrpcPoolOptions {
  name: string;
  packages: string[];
  protoPaths: string[];
  loader: NonNullable<GrpcPoolOptions['loader']>;
  /** Static targets (empty with discovery). */
  targets: string[];
  /** Connections per target or discovered address (`size.min` with load-driven size). */
  size: number;
  discovery: ResolvedDiscovery | false;
  sizing: ResolvedSizing | false;
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
  breaker: BreakerSettings;
  balancer: { policy: 'peak-ewma' | 'round-robin'; decayMs: number };
  hedging: ResolvedHedging | false;
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
  'discovery',
  'size',
  'credentials',
  'timeoutMs',
  'retry',
  'breaker',
  'balancer',
  'hedging',
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
    if (!KNOWN.has(key))
      fail(key, (options as unknown as Record<string, unknown>)[key], 'unknown option');

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
  const discovery = resolveDiscovery(fail, options.url, options.urls, options.discovery);
  const targets = discovery
    ? []
    : (options.urls ?? (options.url === undefined ? [] : [options.url]));
  if (!discovery && (!Array.isArray(targets) || targets.length === 0))
    fail('url', options.url, 'expected a target such as "127.0.0.1:50051"');
  for (const target of targets) {
    if (!isTarget(target))
      fail(options.urls ? 'urls' : 'url', target, 'expected "host:port" or "dns:///host:port"');
  }

  const sizing =
    typeof options.size === 'object' && options.size !== null
      ? resolveSizing(fail, options.size)
      : false;
  const size = sizing ? sizing.min : int(fail, 'size', options.size, 3, 1, 1_000);
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
  let failureRate: BreakerSettings['failureRate'] = false;
  if (breaker.failureRate !== false) {
    const r = breaker.failureRate ?? {};
    const threshold = r.threshold ?? 0.5;
    if (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 1))
      fail('breaker.failureRate.threshold', threshold, 'expected a ratio in (0, 1]');
    failureRate = {
      threshold,
      minRequests: int(fail, 'breaker.failureRate.minRequests', r.minRequests, 20, 1),
      windowMs: int(fail, 'breaker.failureRate.windowMs', r.windowMs, 10_000, 100),
    };
  }
  const balancer = options.balancer ?? {};
  const policy = balancer.policy ?? 'peak-ewma';
  if (policy !== 'peak-ewma' && policy !== 'round-robin')
    fail('balancer.policy', policy, 'expected "peak-ewma" or "round-robin"');
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
    discovery,
    sizing,
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
      timeoutThreshold: int(fail, 'breaker.timeoutThreshold', breaker.timeoutThreshold, 3, 1),
      ejectionMs: int(fail, 'breaker.ejectionMs', breaker.ejectionMs, 1_000, 1),
      failureRate,
    },
    balancer: {
      policy,
      decayMs: int(fail, 'balancer.decayMs', balancer.decayMs, 2_000, 1),
    },
    hedging:
      options.hedging === undefined || options.hedging === false
        ? false
        : resolveHedging(fail, 'hedging', options.hedging),
    healthCheck,
    maxConnectionAgeMs:
      options.maxConnectionAgeMs === undefined
        ? undefined
        : int(fail, 'maxConnectionAgeMs', options.maxConnectionAgeMs, 0, 1_000),
    channelOptions: channelOptions(fail, options),
  };
}

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
  if (keepalive !== false && (typeof keepalive !== 'object' || keepalive === null))
    fail('keepalive', keepalive, 'expected { timeMs?, timeoutMs?, permitWithoutCalls? } or false');
  const ka = keepalive === false ? undefined : keepalive;
  return {
    // Faster reconnects than grpc-js' defaults (1 s, up to 120 s): an ejected connection is
    // probed after breaker.ejectionMs, and should have reconnected by then.
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 1_000,
    // Keepalive on by default: a ping every second, only while calls are outstanding, closes a
    // black-holed connection within ~2 s so its calls fail over (see README: servers' ping policy).
    ...(ka && {
      'grpc.keepalive_time_ms': int(fail, 'keepalive.timeMs', ka.timeMs, 1_000, 10),
      'grpc.keepalive_timeout_ms': int(fail, 'keepalive.timeoutMs', ka.timeoutMs, 1_000, 10),
      'grpc.keepalive_permit_without_calls': ka.permitWithoutCalls ? 1 : 0,
    }),
    ...(extra as Record<string, string | number>),
    ...(ka?.timeMs !== undefined && { 'grpc.keepalive_time_ms': ka.timeMs }),
    ...(ka?.timeoutMs !== undefined && { 'grpc.keepalive_timeout_ms': ka.timeoutMs }),
    ...(ka?.permitWithoutCalls !== undefined && {
      'grpc.keepalive_permit_without_calls': ka.permitWithoutCalls ? 1 : 0,
    }),
    // Pool-owned: each channel its own HTTP/2 connection (grpc-js otherwise shares one subchannel
    // between channels with equal options), and grpc-js' own retries off so the pool's attempts
    // are the only ones (they would multiply).
    'grpc.use_local_subchannel_pool': 1,
    'grpc.enable_retries': 0,
  };
}

/** Validates a hedging policy (pool option or `@UsePooledGrpc` policy). @internal */
export function resolveHedging(
  fail: Fail,
  option: string,
  hedging: GrpcPoolHedgingOptions,
): ResolvedHedging {
  if (typeof hedging !== 'object' || hedging === null)
    fail(option, hedging, 'expected { maxAttempts?, hedgingDelayMs?, nonFatalStatusCodes? }');
  return {
    maxAttempts: int(fail, `${option}.maxAttempts`, hedging.maxAttempts, 2, 2, 5),
    hedgingDelayMs: int(fail, `${option}.hedgingDelayMs`, hedging.hedgingDelayMs, 50, 0),
    nonFatalStatusCodes: codes(fail, `${option}.nonFatalStatusCodes`, hedging.nonFatalStatusCodes, [
      'UNAVAILABLE',
    ]),
  };
}

/** @internal */
export type Fail = (option: string, value: unknown, expected: string) => never;

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
