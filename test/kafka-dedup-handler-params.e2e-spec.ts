import { INestMicroservice } from '@nestjs/common';
import { KafkaContext } from '@nestjs/microservices';
import { register } from 'prom-client';
import { startDedupApp, type DedupAppSpec } from './support/dedup-app';
import { createTopic, kcatProduce, uniqueTopic } from './support/kcat';
import { sleep, waitFor } from './support/wait';

/**
 * `@Deduplicate()` must deduplicate whatever parameters the handler declares. Nest 12 passes a
 * handler without parameter decorators its payload only (no context), so the wrapper has to ask
 * for the context itself; a handler that silently ran without deduplication would let copies
 * through.
 */
describe('@Deduplicate() on every handler signature (real Kafka, memory store)', () => {
  let app: INestMicroservice | undefined;

  beforeEach(() => register.clear());
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const styles: Array<NonNullable<DedupAppSpec['handler']>> = [
    'payload',
    'payload-ctx',
    'undecorated',
    'class',
  ];

  it.each(styles)('%s: copies of an id run the handler once, with the payload', async (style) => {
    const topic = uniqueTopic(`dedup-params-${style}`);
    await createTopic(topic);
    const seen: string[] = [];
    const contexts: unknown[] = [];
    app = await startDedupApp({
      topic,
      group: `${topic}-g`,
      dedup: {},
      handler: style,
      onContext: (context) => contexts.push(context),
      behaviour: (value) => void seen.push((value as { n: string }).n),
    });
    kcatProduce(
      topic,
      ['a', 'a', 'b', 'a', 'end'].map((id, i) => ({
        value: JSON.stringify({ n: `${id}${i}` }),
        headers: { 'x-event-id': id },
      })),
    );
    expect(await waitFor(() => seen.some((n) => n.startsWith('end')))).toBe(true);
    await sleep(200);
    expect(seen).toEqual(['a0', 'b2', 'end4']);
    // Handlers that declare a second parameter receive the KafkaContext there.
    if (style !== 'payload') {
      expect(contexts.every((c) => c instanceof KafkaContext)).toBe(true);
    }
  });
});
