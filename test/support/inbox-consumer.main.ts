import 'reflect-metadata';
import { startInboxConsumer, type InboxConsumerSpec } from './inbox-app';

/**
 * A consumer process for the SIGKILL tests (compiled first: tsx emits no decorator metadata).
 * Reads its spec as JSON from argv[2]; prints "ready" once its Kafka consumer runs.
 */
async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2]) as InboxConsumerSpec;
  await startInboxConsumer(spec);
  process.stdout.write('ready\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`inbox consumer failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
