import { isIP } from 'node:net';

/** The grpc-js target of one resolved address: `ipv4:10.0.0.7:50061` or `ipv6:[fd00::7]:50061`. @internal */
export function addressTarget(ip: string, port: number): string {
  return isIP(ip) === 6 ? `ipv6:[${ip}]:${port}` : `ipv4:${ip}:${port}`;
}

/**
 * The address a connection dials, as `ip:port` (`[ip]:port` for IPv6), for reports: the address
 * of an `ipv4:`/`ipv6:` target or of an IP `host:port`; null for a name grpc-js resolves itself
 * (one of its addresses, unknown to the pool). @internal
 */
export function targetAddress(target: string): string | null {
  const bare = target.replace(/^(ipv4|ipv6):/, '');
  if (bare !== target) return bare;
  const match = /^(\[[0-9a-fA-F:.]+\]|[\d.]+):\d+$/.exec(target);
  return match !== null && isIP(match[1].replace(/^\[|\]$/g, '')) !== 0 ? target : null;
}
