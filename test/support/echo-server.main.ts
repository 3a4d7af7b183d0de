/**
 * A standalone echo backend process: `node --import tsx test/support/echo-server.main.ts <name> <port>`.
 * Prints `listening <port>` once bound. Killing it (SIGKILL) is a real backend crash: its TCP
 * connections drop without any gRPC goodbye.
 */
import { EchoBackend } from './grpc-backend';

async function main(): Promise<void> {
  const [name = 'backend', port = '0'] = process.argv.slice(2);
  const backend = new EchoBackend(name, undefined, Number(port));
  await backend.start();
  process.stdout.write(`listening ${backend.port}\n`);
}

void main();
