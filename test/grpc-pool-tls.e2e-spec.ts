import { ServerCredentials, status } from '@grpc/grpc-js';
import type { TestingModule } from '@nestjs/testing';
import { EchoBackend, type EchoClient } from '../scripts/support/grpc-backend';
import { startPool } from './support/grpc-pool-app';
import { makeTestPki, type TestPki } from './support/tls';

describe('grpc-pool over TLS and mTLS (self-signed CA made in the test)', () => {
  let pki: TestPki;
  let tlsServer: EchoBackend;
  let mtlsServer: EchoBackend;
  const apps: TestingModule[] = [];

  beforeAll(async () => {
    pki = makeTestPki();
    tlsServer = new EchoBackend(
      'tls',
      ServerCredentials.createSsl(
        null,
        [{ private_key: pki.serverKey, cert_chain: pki.serverCert }],
        false,
      ),
    );
    mtlsServer = new EchoBackend(
      'mtls',
      ServerCredentials.createSsl(
        pki.ca,
        [{ private_key: pki.serverKey, cert_chain: pki.serverCert }],
        true,
      ),
    );
    await tlsServer.start();
    await mtlsServer.start();
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    tlsServer.kill();
    mtlsServer.kill();
  });

  async function echoFor(name: string, url: string, credentials: object): Promise<EchoClient> {
    const { pool, app } = await startPool({
      name,
      url,
      size: 2,
      credentials: credentials as never,
      retry: { maxAttempts: 1 },
    });
    apps.push(app);
    return pool.getService<EchoClient>('EchoService');
  }

  it('calls a TLS server whose certificate the given CA signed', async () => {
    const echo = await echoFor('tls', tlsServer.address, { tls: { ca: pki.ca } });
    expect((await echo.ping({ id: 'secure' })).server).toBe('tls');
  });

  it('refuses a server its CA did not sign (the system roots do not trust the test CA)', async () => {
    const echo = await echoFor('tls-untrusted', tlsServer.address, { tls: {} });
    await expect(echo.ping({ id: 'x' }, { deadline: 2_000 })).rejects.toMatchObject({
      code: status.UNAVAILABLE,
    });
  });

  it('presents a client certificate for mTLS (PEM files given by path)', async () => {
    const echo = await echoFor('mtls', mtlsServer.address, {
      tls: { ca: pki.caPath, cert: pki.clientCertPath, key: pki.clientKeyPath },
    });
    expect((await echo.ping({ id: 'mutual' })).server).toBe('mtls');
  });

  it('is refused by an mTLS server without a client certificate', async () => {
    const echo = await echoFor('mtls-anonymous', mtlsServer.address, { tls: { ca: pki.ca } });
    await expect(echo.ping({ id: 'anon' }, { deadline: 2_000 })).rejects.toMatchObject({
      code: status.UNAVAILABLE,
    });
  });
});
