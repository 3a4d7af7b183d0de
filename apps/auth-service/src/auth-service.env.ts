import { EnvReader, InvalidEnvironmentError } from '../../shared/env-reader';

/** The validated configuration of one auth-service process. */
export interface AuthServiceConfig {
  /** `host:port` the gRPC server binds. */
  grpcUrl: string;
  /** Name reported in every answer (several processes run side by side). */
  instance: string;
  tokenSecret: string;
}

/** Every variable auth-service reads. */
export const AUTH_SERVICE_ENV_VARS: readonly string[] = [
  'AUTH_GRPC_URL',
  'AUTH_INSTANCE',
  'AUTH_TOKEN_SECRET',
];

/** Used when AUTH_TOKEN_SECRET is unset: fine on a laptop, never in a deployment. */
export const DEV_TOKEN_SECRET = 'local-development-secret';

/**
 * Reads `AUTH_GRPC_URL` (default `127.0.0.1:50061`), `AUTH_INSTANCE` (default the port) and
 * `AUTH_TOKEN_SECRET` (≥ 16 characters); throws naming each bad variable.
 */
export function validateAuthServiceEnv(env: Record<string, unknown>): AuthServiceConfig {
  const r = new EnvReader(env);
  const grpcUrl = r.addresses('AUTH_GRPC_URL', '127.0.0.1:50061')[0];
  const tokenSecret = r.string('AUTH_TOKEN_SECRET', DEV_TOKEN_SECRET);
  if (tokenSecret.length < 16) r.fail('AUTH_TOKEN_SECRET', '***', 'at least 16 characters');
  const instance = r.string('AUTH_INSTANCE', `auth-${grpcUrl.split(':').pop()}`);
  if (r.problems.length > 0) throw new InvalidEnvironmentError('auth-service', r.problems);
  return { grpcUrl, instance, tokenSecret };
}
