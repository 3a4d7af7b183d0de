import { existsSync, readFileSync } from 'node:fs';
import type { GrpcPoolOptions, GrpcPoolTlsOptions } from './grpc-pool-options.interface';
import { int, type Fail } from '@nest-resilience/common';

/** How each connection's channel is set up: credentials and grpc-js channel options. */

/** TLS material after validation (undefined: insecure). @internal */
export interface ResolvedTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  serverName?: string;
}

/** The TLS material of `credentials` (PEM contents or files), undefined for insecure. @internal */
export function resolveCredentials(
  fail: Fail,
  credentials: GrpcPoolOptions['credentials'],
): ResolvedTls | undefined {
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

/** grpc-js channel options of every connection: keepalive, reconnect backoff, pool-owned settings. @internal */
export function channelOptions(
  fail: Fail,
  options: GrpcPoolOptions,
): Record<string, string | number> {
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
