import { credentials, loadPackageDefinition, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { EchoProcess } from '../../test/support/echo-process';
import { startPool } from '../../test/support/grpc-pool-app';
import type { EchoClient } from '../../test/support/grpc-backend';
import { ECHO_PROTO } from '../../test/support/grpc-backend';
async function main() {
  const b = new EchoProcess('b1');
  await b.start();
  const Svc = (loadPackageDefinition(loadSync(ECHO_PROTO)) as any).echo.v1.EchoService as ServiceClientConstructor;
  const mk = (i: number) => new Svc(b.address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, 'x': i }) as any;
  const plain = mk(0);
  const three = [mk(1), mk(2), mk(3)];
  let k = 0;
  const g = (c: any, id: string) => new Promise((res, rej) => c.ping({ id }, { deadline: Date.now() + 5000 }, (e: any, r: any) => (e ? rej(e) : res(r))));
  const p3 = await startPool({ name: 'p3', url: b.address, size: 3 });
  const e3 = p3.pool.getService<EchoClient>('EchoService');
  const clients: [string, (id: string) => Promise<unknown>][] = [
    ['plain', (id) => g(plain, id)],
    ['3 channels rr', (id) => g(three[k++ % 3], id)],
    ['pool3', (id) => e3.ping({ id })],
  ];
  const run = async (call: (id: string) => Promise<unknown>, ms: number) => {
    const end = performance.now() + ms; let n = 0; const cpu = process.cpuUsage();
    await Promise.all(Array.from({ length: 16 }, async () => { while (performance.now() < end) { await call('x'); n++; } }));
    const u = process.cpuUsage(cpu); return (u.user + u.system) / n;
  };
  for (const [, c] of clients) await run(c, 500);
  const res = new Map<string, number[]>();
  for (let round = 0; round < 5; round++) for (const [name, c] of clients) { const v = await run(c, 1500); res.set(name, [...(res.get(name) ?? []), v]); }
  for (const [name, v] of res) { const s = [...v].sort((a, b) => a - b); console.log(name.padEnd(16), 'median', s[2].toFixed(0), 'all', v.map((x) => x.toFixed(0)).join(' ')); }
  await p3.app.close(); plain.close(); three.forEach((c) => c.close()); await b.kill();
}
void main();
