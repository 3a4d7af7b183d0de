import { credentials, loadPackageDefinition, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { EchoProcess } from '../../test/support/echo-process';
import { startPool } from '../../test/support/grpc-pool-app';
import { freePort, Haproxy } from '../../test/support/haproxy';
import type { EchoClient } from '../../test/support/grpc-backend';
import { ECHO_PROTO } from '../../test/support/grpc-backend';
async function main() {
  const backends = ['b1', 'b2', 'b3'].map((n) => new EchoProcess(n));
  for (const b of backends) await b.start();
  const h = new Haproxy(await freePort(), backends.map((b) => b.address)); await h.start();
  const Svc = (loadPackageDefinition(loadSync(ECHO_PROTO)) as any).echo.v1.EchoService as ServiceClientConstructor;
  const g = (c: any) => (id: string) => new Promise((res, rej) => c.ping({ id }, { deadline: Date.now() + 5000 }, (e: any, r: any) => (e ? rej(e) : res(r))));
  const pools = await Promise.all([
    startPool({ name: 'def', url: h.address }),
    startPool({ name: 'noka', url: h.address, keepalive: false }),
    startPool({ name: 'rrp', url: h.address, balancer: { policy: 'round-robin' } }),
    startPool({ name: 's1', url: h.address, size: 1 }),
  ]);
  const plain = new Svc(h.address, credentials.createInsecure()) as any;
  const clients: [string, (id: string) => Promise<unknown>][] = [
    ['plain', g(plain)],
    ...pools.map((p) => { const e = p.pool.getService<EchoClient>('EchoService'); return [p.pool.name, (id: string) => e.ping({ id })] as [string, (id: string) => Promise<unknown>]; }),
  ];
  const run = async (call: (id: string) => Promise<unknown>, ms: number) => {
    const end = performance.now() + ms; let n = 0; const cpu = process.cpuUsage();
    await Promise.all(Array.from({ length: 16 }, async () => { while (performance.now() < end) { await call('x'); n++; } }));
    const u = process.cpuUsage(cpu); return (u.user + u.system) / n;
  };
  for (const [, c] of clients) await run(c, 500);
  const res = new Map<string, number[]>();
  for (let round = 0; round < 6; round++) for (const [name, c] of clients) res.set(name, [...(res.get(name) ?? []), await run(c, 1200)]);
  const base = [...res.get('plain')!].sort((a, b) => a - b)[3];
  for (const [name, v] of res) { const s = [...v].sort((a, b) => a - b); const ratios = v.map((x, i) => x / res.get('plain')![i]).sort((a, b) => a - b); console.log(name.padEnd(8), 'median', s[3].toFixed(0), 'ratio vs plain (paired median)', ((ratios[2] + ratios[3]) / 2).toFixed(3), 'all', v.map((x) => x.toFixed(0)).join(' ')); }
  void base;
  for (const p of pools) await p.app.close(); plain.close(); await h.stop(); for (const b of backends) await b.kill();
}
void main();
