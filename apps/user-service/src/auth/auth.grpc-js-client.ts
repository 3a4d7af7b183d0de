import {
  credentials,
  loadPackageDefinition,
  type Client,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { repoFile } from '../../../shared/repo-file';
import type { VerifiedToken } from './auth.verified-token';

/**
 * The channel options of the baseline: grpc-js' own `round_robin` over every address and a
 * `retryPolicy` on UNAVAILABLE (3 attempts) — what a service would run without the pool.
 */
export const GRPC_JS_ROUND_ROBIN_SERVICE_CONFIG = JSON.stringify({
  loadBalancingConfig: [{ round_robin: {} }],
  methodConfig: [
    {
      name: [{ service: 'auth.v1.AuthService' }],
      retryPolicy: {
        maxAttempts: 3,
        initialBackoff: '0.01s',
        maxBackoff: '0.1s',
        backoffMultiplier: 2,
        retryableStatusCodes: ['UNAVAILABLE'],
      },
    },
  ],
});

/** The grpc-js target of `AUTH_GRPC_URLS`: `ipv4:a,b,…` for static addresses, the `dns:///` name as is. */
export function grpcJsTarget(urls: string[]): string {
  if (urls.length === 1 && urls[0].startsWith('dns:///')) return urls[0];
  const ipv4 = urls.every((u) => /^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(u));
  return ipv4 ? `ipv4:${urls.join(',')}` : `dns:///${urls[0]}`;
}

type VerifyCallback = (error: Error | null, response?: VerifiedToken) => void;

/**
 * `AUTH_CLIENT=grpc-js`: one plain grpc-js channel to auth-service (no pool), for comparing the
 * pool with what it replaces (`npm run bench:e2e`). Each call has a deadline of `timeoutMs`.
 */
export class GrpcJsAuthClient {
  private readonly client: Client & { VerifyToken(...args: unknown[]): void };

  constructor(
    urls: string[],
    private readonly timeoutMs: number,
  ) {
    const definition = loadPackageDefinition(
      loadSync(repoFile('apps/proto/auth.proto'), { defaults: true }),
    ) as unknown as { auth: { v1: { AuthService: ServiceClientConstructor } } };
    const AuthService = definition.auth.v1.AuthService;
    this.client = new AuthService(grpcJsTarget(urls), credentials.createInsecure(), {
      'grpc.service_config': GRPC_JS_ROUND_ROBIN_SERVICE_CONFIG,
    }) as unknown as GrpcJsAuthClient['client'];
  }

  verifyToken(token: string): Promise<VerifiedToken> {
    return new Promise((resolve, reject) => {
      this.client.VerifyToken({ token }, { deadline: Date.now() + this.timeoutMs }, ((
        error,
        response,
      ) => (error ? reject(error) : resolve(response!))) as VerifyCallback);
    });
  }

  close(): void {
    this.client.close();
  }
}
