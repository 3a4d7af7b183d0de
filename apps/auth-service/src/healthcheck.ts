import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { repoFile } from '../../shared/repo-file';

/**
 * The container healthcheck of auth-service: `grpc.health.v1.Health/Check` against this process;
 * exit 0 when SERVING. Reads the same AUTH_GRPC_URL (a 0.0.0.0 bind is checked on 127.0.0.1).
 */
const url = (process.env.AUTH_GRPC_URL ?? '127.0.0.1:50061').replace(/^0\.0\.0\.0:/, '127.0.0.1:');
const definition = protoLoader.loadSync(repoFile('apps/proto/health.proto'));
const { grpc: g } = grpc.loadPackageDefinition(definition) as unknown as {
  grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
};
const client = new g.health.v1.Health(url, grpc.credentials.createInsecure());
client.check(
  { service: '' },
  { deadline: Date.now() + 2000 },
  (error: grpc.ServiceError | null, reply?: { status: string | number }) => {
    const serving = !error && (reply?.status === 'SERVING' || reply?.status === 1);
    process.exit(serving ? 0 : 1);
  },
);
