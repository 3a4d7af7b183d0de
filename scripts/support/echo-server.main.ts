/**
 * A standalone echo backend process:
 * `node --import tsx scripts/support/echo-server.main.ts <name> <port> [host] [maxConcurrentStreams]`.
 * Prints `listening <port>` once bound. SIGTERM shuts it down gracefully (`tryShutdown`: GOAWAY,
 * calls in flight finish) and the process exits, as a pod does. Killing it (SIGKILL) is a real backend crash: its TCP
 * connections drop without any gRPC goodbye; SIGSTOP freezes it with its connections open.
 * Commands on stdin, one per line: `slow <ms>` (every Ping waits ms more), `spikes <rate> <ms>`
 * (that share of Pings waits ms more), `normal`; each is acknowledged with `ok <command>`.
 */
import { createInterface } from 'node:readline';
import { EchoBackend } from './grpc-backend';

async function main(): Promise<void> {
  const [name = 'backend', port = '0', host = '127.0.0.1', streams] = process.argv.slice(2);
  const backend = new EchoBackend(
    name,
    undefined,
    Number(port),
    host,
    streams ? { 'grpc.max_concurrent_streams': Number(streams) } : {},
  );
  await backend.start();
  process.stdout.write(`listening ${backend.port}\n`);
  process.once('SIGTERM', () => {
    void backend.shutdown().then(() => process.exit(0));
  });
  createInterface({ input: process.stdin }).on('line', (line) => {
    const [command, a, b] = line.trim().split(/\s+/);
    if (command === 'slow') backend.extraDelayMs = Number(a);
    else if (command === 'spikes') backend.spikes = { rate: Number(a), ms: Number(b) };
    else if (command === 'normal') {
      backend.extraDelayMs = 0;
      backend.spikes = { rate: 0, ms: 0 };
    } else return;
    process.stdout.write(`ok ${line.trim()}\n`);
  });
}

void main();
