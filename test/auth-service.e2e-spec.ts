import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { signToken } from '../apps/auth-service/src/auth-token';
import {
  AppProcess,
  AUTH_READY,
  authProcess,
  E2E_TOKEN_SECRET,
  portBlock,
} from './support/user-service-processes';

type Unary = (
  request: object,
  callback: (error: grpc.ServiceError | null, reply: any) => void,
) => void;

function client(
  port: number,
  proto: string,
  pkg: string[],
  service: string,
): grpc.Client & Record<string, Unary> {
  const definition = protoLoader.loadSync(join(__dirname, '../apps/proto', proto), {
    keepCase: true,
  });
  let node: any = grpc.loadPackageDefinition(definition);
  for (const part of pkg) node = node[part];
  return new node[service](`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

const call = (
  c: grpc.Client & Record<string, Unary>,
  method: string,
  request: object,
): Promise<any> =>
  new Promise((resolve, reject) =>
    c[method](request, (error, reply) => (error ? reject(error) : resolve(reply))),
  );

describe('auth-service (a real process: auth.v1.AuthService + grpc.health.v1)', () => {
  const [port] = portBlock(1);
  const auth = authProcess(port);

  beforeAll(() => auth.start(AUTH_READY), 120_000);
  afterAll(() => auth.stop('SIGTERM'));

  it('verifies a token signed with its secret and rejects a forged one, naming the instance', async () => {
    const c = client(port, 'auth.proto', ['auth', 'v1'], 'AuthService');
    expect(await call(c, 'VerifyToken', { token: signToken('u-7', E2E_TOKEN_SECRET) })).toEqual({
      valid: true,
      subject: 'u-7',
      instance: `auth-${port}`,
    });
    const forged = await call(c, 'VerifyToken', {
      token: signToken('u-7', 'some-other-secret-value'),
    });
    expect(forged).toMatchObject({ valid: false, subject: '' });
    expect(await call(c, 'VerifyToken', { token: 'garbage' })).toMatchObject({ valid: false });
    c.close();
  });

  it('answers grpc.health.v1 Check: SERVING for the server and AuthService, SERVICE_UNKNOWN otherwise', async () => {
    const c = client(port, 'health.proto', ['grpc', 'health', 'v1'], 'Health');
    const [SERVING, SERVICE_UNKNOWN] = [1, 3]; // HealthCheckResponse.ServingStatus
    expect((await call(c, 'Check', { service: '' })).status).toBe(SERVING);
    expect((await call(c, 'Check', { service: 'auth.v1.AuthService' })).status).toBe(SERVING);
    expect((await call(c, 'Check', { service: 'nope' })).status).toBe(SERVICE_UNKNOWN);
    c.close();
  });

  it('refuses to start with a bad environment, naming the variable', async () => {
    const bad = new AppProcess('auth-service', {
      AUTH_GRPC_URL: 'nowhere',
      AUTH_TOKEN_SECRET: 'short',
    });
    await expect(bad.start(AUTH_READY, 30_000)).rejects.toThrow(/exited \(1\)/);
    expect(bad.output).toMatch(/AUTH_GRPC_URL="nowhere"/);
    expect(bad.output).toMatch(/AUTH_TOKEN_SECRET="\*\*\*" \(expected at least 16 characters\)/);
  });
});
