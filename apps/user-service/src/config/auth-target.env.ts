import { isIP } from 'node:net';
import type { EnvReader } from '../../../shared/env-reader';

/** How user-service reaches auth-service: static addresses, or one DNS name the pool resolves. */
export interface AuthTargetConfig {
  /** `host:port` addresses, or one `dns:///host:port` (the pool's DNS discovery). */
  authUrls: string[];
  /** DNS servers the pool asks (`ip`, `ip:port`, `[ipv6]:port`); undefined: the system's. */
  authDnsServers?: string[];
  /** Re-resolution interval of the auth name, in ms. */
  authDnsRefreshMs: number;
  /** Set: connections per auth address follow the load, from GRPC_POOL_SIZE up to this. */
  grpcPoolSizeMax?: number;
}

/** Defaults of the variables read here (part of user-service's table). */
export const AUTH_TARGET_ENV_DEFAULTS = {
  AUTH_GRPC_URLS: '127.0.0.1:50061',
  AUTH_DNS_REFRESH_MS: 10_000,
} as const;

/** The variables read here without a default. */
export const AUTH_TARGET_OPTIONAL_VARS = ['AUTH_DNS_SERVERS', 'GRPC_POOL_SIZE_MAX'] as const;

const DNS_URL = /^dns:\/\/\/([\w.-]+):(\d{1,5})$/;
const HOST_PORT = /^[\w.-]+:\d{1,5}$/;

/**
 * Reads `AUTH_GRPC_URLS` (a comma-separated list of `host:port`, or exactly one
 * `dns:///name:port` whose every A/AAAA record the pool connects to), `AUTH_DNS_SERVERS` and
 * `AUTH_DNS_REFRESH_MS` (used with a `dns:///` name; validated, unused with static addresses, so
 * a rollback to static addresses changes one variable) and `GRPC_POOL_SIZE_MAX` (≥ `poolSize`);
 * each problem is reported to `r` naming the variable and its value.
 *
 * @example readAuthTarget(r, 3).authUrls // ['dns:///auth.default.svc:50061']
 */
export function readAuthTarget(r: EnvReader, poolSize: number): AuthTargetConfig {
  const D = AUTH_TARGET_ENV_DEFAULTS;
  const value = r.string('AUTH_GRPC_URLS', D.AUTH_GRPC_URLS);
  const authUrls = value.split(',').map((a) => a.trim());
  const dns = DNS_URL.exec(authUrls[0]);
  const discovers = authUrls.length === 1 && dns !== null && isIP(dns[1]) === 0;
  if (!discovers && authUrls.some((a) => !HOST_PORT.test(a)))
    r.fail(
      'AUTH_GRPC_URLS',
      value,
      'a comma-separated list of host:port, or one dns:///name:port (a DNS name, e.g. a headless Service)',
    );
  const config: AuthTargetConfig = {
    authUrls,
    authDnsRefreshMs: r.int('AUTH_DNS_REFRESH_MS', D.AUTH_DNS_REFRESH_MS, 100, 600_000),
  };
  const servers = r.raw('AUTH_DNS_SERVERS');
  if (servers !== undefined) {
    config.authDnsServers = servers.split(',').map((s) => s.trim());
    if (!config.authDnsServers.every(isDnsServer))
      r.fail('AUTH_DNS_SERVERS', servers, 'a comma-separated list of ip, ip:port or [ipv6]:port');
  }
  if (r.raw('GRPC_POOL_SIZE_MAX') !== undefined)
    config.grpcPoolSizeMax = r.int('GRPC_POOL_SIZE_MAX', poolSize, Math.min(poolSize, 64), 64);
  return config;
}

function isDnsServer(value: string): boolean {
  if (isIP(value) !== 0) return true;
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(value);
  return match !== null && isIP(match[1] ?? match[2]) !== 0 && Number(match[3]) < 65_536;
}
