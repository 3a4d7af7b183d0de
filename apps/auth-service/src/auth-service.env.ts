import { hostname } from 'node:os';
import { EnvReader, InvalidEnvironmentError } from '../../shared/env-reader';

/** The validated configuration of one auth-service process. */
export interface AuthServiceConfig {
  /** `host:port` the gRPC server binds. */
  grpcUrl: string;
  /** Name reported in every answer (several processes run side by side). */
  instance: string;
  tokenSecret: string;
  /** Set: `GET /metrics` (this process's answers) on this port of the gRPC host. */
  metricsPort?: number;
}

/** Every variable auth-service reads. */
export const AUTH_SERVICE_ENV_VARS: readonly string[] = [
  'AUTH_GRPC_URL',
  'AUTH_INSTANCE',
  'AUTH_TOKEN_SECRET',
  'AUTH_METRICS_PORT',
];

/** Used when AUTH_TOKEN_SECRET is unset: fine on a laptop, never in a deployment. */
export const DEV_TOKEN_SECRET = 'local-development-secret';

/**
 * Reads `AUTH_GRPC_URL` (default `127.0.0.1:50061`; any local address, e.g. 127.0.0.2…N on one
 * port for several processes), `AUTH_INSTANCE` (default {@link defaultInstance}),
 * `AUTH_TOKEN_SECRET` (≥ 16 characters) and `AUTH_METRICS_PORT` (unset: no HTTP at all); throws
 * naming each bad variable.
 */
export function validateAuthServiceEnv(env: Record<string, unknown>): AuthServiceConfig {
  const r = new EnvReader(env);
  const grpcUrl = r.addresses('AUTH_GRPC_URL', '127.0.0.1:50061')[0];
  const tokenSecret = r.string('AUTH_TOKEN_SECRET', DEV_TOKEN_SECRET);
  if (tokenSecret.length < 16) r.fail('AUTH_TOKEN_SECRET', '***', 'at least 16 characters');
  const instance = r.string('AUTH_INSTANCE', defaultInstance(grpcUrl));
  const metricsPort =
    r.raw('AUTH_METRICS_PORT') === undefined ? undefined : r.int('AUTH_METRICS_PORT', 0, 1, 65535);
  if (r.problems.length > 0) throw new InvalidEnvironmentError('auth-service', r.problems);
  return { grpcUrl, instance, tokenSecret, ...(metricsPort ? { metricsPort } : {}) };
}

/**
 * The instance name when AUTH_INSTANCE is unset: the machine's host name when bound to every
 * interface (a container: each replica of a compose service or pod has its own), else
 * `auth-<port>` on 127.0.0.1 and `auth-<host>:<port>` on another local address.
 */
export function defaultInstance(grpcUrl: string): string {
  const colon = grpcUrl.lastIndexOf(':');
  const [host, port] = [grpcUrl.slice(0, colon), grpcUrl.slice(colon + 1)];
  if (host === '0.0.0.0' || host === '[::]' || host === '::') return hostname();
  return host === '127.0.0.1' ? `auth-${port}` : `auth-${host}:${port}`;
}
