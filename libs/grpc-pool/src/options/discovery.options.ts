import { isIP } from 'node:net';
import type { GrpcPoolDiscoveryOptions, GrpcPoolSizeOptions } from './discovery-options.interface';

/** Reports an invalid option (throws); the pool's validator passes its own. @internal */
export type FailOption = (option: string, value: unknown, expected: string) => never;

/** Discovery settings after validation. @internal */
export interface ResolvedDiscovery {
  /** Host name resolved (also the authority and the TLS server name). */
  host: string;
  port: number;
  /** DNS servers; undefined: the system's. */
  servers?: string[];
  refreshIntervalMs: number;
  minRefreshIntervalMs: number;
  lookupTimeoutMs: number;
  startupTimeoutMs: number;
  warmupTimeoutMs: number;
  slowStartMs: number;
  drainTimeoutMs: number;
}

/** Load-driven size after validation. @internal */
export interface ResolvedSizing {
  min: number;
  max: number;
  maxConcurrentStreams: number;
  targetInFlight: number;
  intervalMs: number;
  shrinkAfterMs: number;
  maxStep: number;
}

const DISCOVERY_KEYS = new Set([
  'name',
  'servers',
  'refreshIntervalMs',
  'minRefreshIntervalMs',
  'lookupTimeoutMs',
  'startupTimeoutMs',
  'warmupTimeoutMs',
  'slowStartMs',
  'drainTimeoutMs',
]);
const SIZE_KEYS = new Set([
  'min',
  'max',
  'maxConcurrentStreams',
  'targetInFlight',
  'intervalMs',
  'shrinkAfterMs',
  'maxStep',
]);

/**
 * Decides whether the pool discovers its addresses and validates the `discovery` option against
 * `url`/`urls`: a `dns:///host:port` url turns discovery on (`dns://server/host:port` also names
 * the DNS server), `discovery: false` keeps grpc-js' own resolution of it. @internal
 */
export function resolveDiscovery(
  fail: FailOption,
  url: unknown,
  urls: unknown,
  discovery: GrpcPoolDiscoveryOptions | false | undefined,
): ResolvedDiscovery | false {
  if (discovery === false) return false;
  const fromUrl = typeof url === 'string' ? dnsTarget(url) : undefined;
  if (discovery === undefined) {
    if (fromUrl === undefined || isIP(fromUrl.host) !== 0) return false;
    return withDefaults(fail, {
      name: `${fromUrl.host}:${fromUrl.port}`,
      servers: fromUrl.servers,
    });
  }
  if (typeof discovery !== 'object' || discovery === null || Array.isArray(discovery))
    return fail(
      'discovery',
      discovery,
      'expected { name?, servers?, refreshIntervalMs?, … } or false',
    );
  for (const key of Object.keys(discovery))
    if (!DISCOVERY_KEYS.has(key))
      fail(`discovery.${key}`, (discovery as Record<string, unknown>)[key], 'unknown option');
  if (urls !== undefined)
    fail('discovery', '{…}', 'give discovery or urls, not both (discovery finds the addresses)');
  if (url !== undefined) {
    if (fromUrl === undefined)
      fail('url', url, 'with discovery, give url as "dns:///host:port" or leave it out');
    const urlName = `${fromUrl!.host}:${fromUrl!.port}`;
    if (discovery.name !== undefined && discovery.name !== urlName)
      fail('discovery.name', discovery.name, `conflicts with url "${String(url)}"`);
    return withDefaults(fail, {
      ...discovery,
      name: urlName,
      servers: discovery.servers ?? fromUrl!.servers,
    });
  }
  return withDefaults(fail, discovery);
}

function withDefaults(fail: FailOption, d: GrpcPoolDiscoveryOptions): ResolvedDiscovery {
  const name = d.name;
  const match = typeof name === 'string' ? /^([A-Za-z0-9_.-]+):(\d{1,5})$/.exec(name) : null;
  if (
    match === null ||
    isIP(match[1]) !== 0 ||
    !(Number(match[2]) > 0 && Number(match[2]) < 65_536)
  )
    fail(
      'discovery.name',
      name,
      'expected "host:port" with a DNS name, e.g. "auth.default.svc:50061"',
    );
  let servers: string[] | undefined;
  if (d.servers !== undefined) {
    if (!Array.isArray(d.servers) || d.servers.length === 0)
      fail('discovery.servers', d.servers, 'expected a non-empty list of DNS server addresses');
    for (const s of d.servers)
      if (!isServer(s))
        fail('discovery.servers', s, 'expected an IP address, "ip:port" or "[ipv6]:port"');
    servers = d.servers;
  }
  const refreshIntervalMs = int(
    fail,
    'discovery.refreshIntervalMs',
    d.refreshIntervalMs,
    10_000,
    100,
  );
  return {
    host: match![1],
    port: Number(match![2]),
    servers,
    refreshIntervalMs,
    minRefreshIntervalMs: int(
      fail,
      'discovery.minRefreshIntervalMs',
      d.minRefreshIntervalMs,
      Math.min(1_000, refreshIntervalMs),
      0,
      refreshIntervalMs,
    ),
    lookupTimeoutMs: int(fail, 'discovery.lookupTimeoutMs', d.lookupTimeoutMs, 2_000, 10, 60_000),
    startupTimeoutMs: int(
      fail,
      'discovery.startupTimeoutMs',
      d.startupTimeoutMs,
      10_000,
      0,
      600_000,
    ),
    warmupTimeoutMs: int(fail, 'discovery.warmupTimeoutMs', d.warmupTimeoutMs, 5_000, 10, 600_000),
    slowStartMs: int(fail, 'discovery.slowStartMs', d.slowStartMs, 1_000, 0, 60_000),
    drainTimeoutMs: int(fail, 'discovery.drainTimeoutMs', d.drainTimeoutMs, 30_000, 0, 3_600_000),
  };
}

/** Validates `size` when it is an object (load-driven size). @internal */
export function resolveSizing(fail: FailOption, size: GrpcPoolSizeOptions): ResolvedSizing {
  if (typeof size !== 'object' || size === null || Array.isArray(size))
    fail('size', size, 'expected a number of connections or { min?, max?, … }');
  for (const key of Object.keys(size))
    if (!SIZE_KEYS.has(key))
      fail(`size.${key}`, (size as Record<string, unknown>)[key], 'unknown option');
  const min = int(fail, 'size.min', size.min, 1, 1, 1_000);
  const max = int(fail, 'size.max', size.max, Math.max(8, min), 1, 1_000);
  if (max < min) fail('size.max', max, `must be >= size.min (${min})`);
  const maxConcurrentStreams = int(
    fail,
    'size.maxConcurrentStreams',
    size.maxConcurrentStreams,
    100,
    2,
    2 ** 31 - 1,
  );
  const targetInFlight = int(
    fail,
    'size.targetInFlight',
    size.targetInFlight,
    Math.max(1, Math.floor(maxConcurrentStreams * 0.75)),
    1,
    maxConcurrentStreams - 1,
  );
  return {
    min,
    max,
    maxConcurrentStreams,
    targetInFlight,
    intervalMs: int(fail, 'size.intervalMs', size.intervalMs, 1_000, 100, 600_000),
    shrinkAfterMs: int(fail, 'size.shrinkAfterMs', size.shrinkAfterMs, 30_000, 0, 86_400_000),
    maxStep: int(fail, 'size.maxStep', size.maxStep, 2, 1, max),
  };
}

/** `dns:///host:port` or `dns://server/host:port`, split; undefined for other targets. */
function dnsTarget(url: string): { host: string; port: number; servers?: string[] } | undefined {
  const match = /^dns:\/\/([^/]*)\/([A-Za-z0-9_.-]+):(\d{1,5})$/.exec(url);
  if (match === null) return undefined;
  return { host: match[2], port: Number(match[3]), servers: match[1] ? [match[1]] : undefined };
}

function isServer(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  if (isIP(value) !== 0) return true;
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(value);
  return match !== null && isIP(match[1] ?? match[2]) !== 0 && Number(match[3]) < 65_536;
}

function int(
  fail: FailOption,
  option: string,
  value: unknown,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    fail(
      option,
      value,
      `expected an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? '' : ` to ${max}`}`,
    );
  return value as number;
}
