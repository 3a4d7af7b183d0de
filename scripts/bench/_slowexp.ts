import { EchoProcess } from '../../test/support/echo-process';
import { startPool } from '../../test/support/grpc-pool-app';
import { load, quantile } from '../../test/support/grpc-load';
import type { EchoClient } from '../../test/support/grpc-backend';
async function main() {
  const backends = ['b1', 'b2', 'b3'].map((n) => new EchoProcess(n));
  for (const b of backends) await b.start();
  try {
    for (const decay of [2000]) {
      const { pool, app } = await startPool({ name: 'x' + decay, urls: backends.map((b) => b.address), size: 1, balancer: { decayMs: decay } });
      const echo = pool.getService<EchoClient>('EchoService');
      await load((id) => echo.ping({ id }), 300);
      await backends[2].command('slow 200');
      const orig = pool.picker.pick.bind(pool.picker); const t0 = performance.now();
      (pool.picker as any).pick = (all: any, tried: any, reuse: any) => { const c = orig(all, tried, reuse); if (c && c.index === 2) console.log((performance.now()-t0).toFixed(0), all.map((x: any) => `${x.latency.estimate(performance.now()).toFixed(1)}x${x.inFlight}`).join(' ')); return c; };
      const t = setInterval(() => 0, 100);
      const r = await load((id) => echo.ping({ id }), 2500);
      clearInterval(t);
      await backends[2].command('normal');
      console.log(decay, 'ok', r.ok, 'slow', r.latencies.filter((l) => l >= 150).length, 'p50', quantile(r.latencies, 0.5).toFixed(1), 'p99', quantile(r.latencies, 0.99).toFixed(1), 'b3', r.byServer.get('b3'));
      await app.close();
    }
  } finally { for (const b of backends) await b.kill(); }
}
void main();
