import { status } from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import { GrpcPoolOptionsError } from '../errors/grpc-pool.errors';
import { channelOptions, resolveCredentials, type ResolvedTls } from './channel.options';
import {
  resolveDiscovery,
  resolveSizing,
  type ResolvedDiscovery,
  type ResolvedSizing,
} from './discovery.options';
import type {
  GrpcPoolHedgingOptions,
  GrpcPoolOptions,
  GrpcStatusName,
} from './grpc-pool-options.interface';
import { int, list, rejectUnknownKeys, type Fail } from '@nest-resilience/common';

/** Outlier-detection settings of one connection. @internal */
export interface BreakerSettings {
  failureThreshold: number;
  timeoutThreshold: number;
  ejectionMs: number;
  failureRate: { threshold: number; minRequests: number; windowMs: number } | false;
}

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
  tls?: ResolvedTls;
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
  rejectUnknownKeys(fail, options, KNOWN);

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
      decayMs: int(fail, 'balancer.decayMs', balancer.decayMs, 250, 1),
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

function isTarget(target: unknown): boolean {
  if (typeof target !== 'string' || target.trim() !== target || target === '') return false;
  const hostPort = target.replace(/^(dns|ipv4|ipv6):(\/\/[^/]*\/)?/, '');
  const match = /^(\[[0-9a-fA-F:]+\]|[\w.-]+):(\d{1,5})$/.exec(hostPort);
  return match !== null && Number(match[2]) > 0 && Number(match[2]) < 65_536;
}

/** A set of gRPC status codes from their names (`fallback` when absent). */
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
