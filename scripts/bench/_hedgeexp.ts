import { EchoProcess } from '../../test/support/echo-process';
import { startPool } from '../../test/support/grpc-pool-app';
import { load, quantile } from '../../test/support/grpc-load';
import { metricValue } from '../../test/support/metrics';
import type { EchoClient } from '../../test/support/grpc-backend';
async function main() {
  const backends = ['b1', 'b2', 'b3'].map((n) => new EchoProcess(n));
  for (const b of backends) await b.start();
  try {
    for (const b of backends) await b.command('spikes 0.05 250');
    const { pool, app } = await startPool({ name: 'h', urls: backends.map((b) => b.address), size: 1, hedging: { maxAttempts: 2, hedgingDelayMs: 20 } });
    const echo = pool.getService<EchoClient>('EchoService');
    await load((id) => echo.ping({ id }), 300, 4);
    const r = await load((id) => echo.ping({ id }), 2000, 4);
    console.log('ok', r.ok, r.failed, 'p50', quantile(r.latencies, 0.5).toFixed(1), 'p99', quantile(r.latencies, 0.99).toFixed(1), 'slow', r.latencies.filter((l) => l > 200).length,
      'hedges', await metricValue('grpc_pool_hedged_attempts_total'), 'budget', await metricValue('grpc_pool_retry_budget_exhausted_total'), [...r.errors]);
    await app.close();
  } finally { for (const b of backends) await b.kill(); }
}
void main();
