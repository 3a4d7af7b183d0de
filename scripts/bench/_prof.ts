import { credentials, loadPackageDefinition, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { EchoProcess } from '../../test/support/echo-process';
import { startPool } from '../../test/support/grpc-pool-app';
import type { EchoClient } from '../../test/support/grpc-backend';
import { ECHO_PROTO } from '../../test/support/grpc-backend';
const which = process.argv[2] ?? 'pool';
const size = Number(process.argv[3] ?? 3);
async function main() {
  const b = new EchoProcess('b1');
  await b.start();
  const { pool, app } = await startPool({ name: 'p', url: b.address, size });
  const echo = pool.getService<EchoClient>('EchoService');
  const Svc = (loadPackageDefinition(loadSync(ECHO_PROTO)) as any).echo.v1.EchoService as ServiceClientConstructor;
  const plain = new Svc(b.address, credentials.createInsecure()) as any;
  const call = which === 'pool' ? (id: string) => echo.ping({ id }) : (id: string) => new Promise((res, rej) => plain.ping({ id }, { deadline: Date.now() + 5000 }, (e: any, r: any) => (e ? rej(e) : res(r))));
  const run = async (ms: number) => {
    const end = performance.now() + ms; let n = 0; const cpu = process.cpuUsage();
    await Promise.all(Array.from({ length: 16 }, async () => { while (performance.now() < end) { await call('x'); n++; } }));
    const u = process.cpuUsage(cpu); return { n, us: (u.user + u.system) / n };
  };
  await run(1000);
  const { Session } = await import('node:inspector/promises');
  const session = new Session(); session.connect();
  if (process.env.PROF) { await session.post('Profiler.enable'); await session.post('Profiler.start'); }
  const r = await run(4000);
  if (process.env.PROF) { const { profile } = await session.post('Profiler.stop'); (await import('node:fs')).writeFileSync(process.env.PROF, JSON.stringify(profile)); }
  console.log(which, size, 'calls', r.n, 'cpu us/call', r.us.toFixed(1));
  plain.close(); await app.close(); await b.kill();
}
void main();
