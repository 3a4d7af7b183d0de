import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM material of a throw-away PKI made with the openssl CLI. */
export interface TestPki {
  dir: string;
  ca: Buffer;
  caPath: string;
  serverCert: Buffer;
  serverKey: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
  clientCertPath: string;
  clientKeyPath: string;
}

/**
 * A self-signed CA, a server certificate for 127.0.0.1/localhost (and `dnsNames`) and a client
 * certificate.
 */
export function makeTestPki(dnsNames: string[] = []): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'pki-'));
  const run = (...args: string[]): void =>
    void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=test-ca',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
  );
  const names = ['localhost', ...dnsNames].map((n) => `DNS:${n}`).join(',');
  writeFileSync(join(dir, 'server.ext'), `subjectAltName=IP:127.0.0.1,${names}\n`);
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    run(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${who}`,
      '-keyout',
      `${who}.key`,
      '-out',
      `${who}.csr`,
    );
    run(
      'x509',
      '-req',
      '-in',
      `${who}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${who}.ext`,
      '-out',
      `${who}.crt`,
    );
  }
  const read = (f: string): Buffer => readFileSync(join(dir, f));
  return {
    dir,
    ca: read('ca.crt'),
    caPath: join(dir, 'ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
    clientCertPath: join(dir, 'client.crt'),
    clientKeyPath: join(dir, 'client.key'),
  };
}
