import type { INestApplication } from '@nestjs/common';
import { register } from 'prom-client';
import { USER_EVENTS_TOPIC as topic } from './support/user-service-env'; // first: sets the topic
import { createUserServiceApp } from '../apps/user-service/src/user-service.app';
import { loadUserServiceConfig } from '../apps/user-service/src/user-service.config';
import { createTopic, kcatProduce, KAFKA_BROKER } from './support/kcat';
import { waitFor } from './support/wait';
import { families, promtoolCheck } from './support/promtool';

describe('user-service (hybrid app: HTTP /metrics + Kafka consumer, real broker)', () => {
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    register.clear();
    await createTopic(topic);
    const config = {
      ...loadUserServiceConfig(),
      kafkaBrokers: [KAFKA_BROKER],
      consumerGroup: `${topic}-g`,
    };
    app = await createUserServiceApp(config, { logger: ['error'] });
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
    baseUrl = await app.getUrl();
  });

  afterAll(async () => {
    await app?.close();
  });

  async function metrics(): Promise<string> {
    return (await fetch(`${baseUrl}/metrics`)).text();
  }

  it('deduplicates a redelivered CDC event and exposes the seed metrics on GET /metrics', async () => {
    kcatProduce(topic, [
      { value: '{"id":"u1","op":"c"}', headers: { 'x-event-id': 'e1' } },
      { value: '{"id":"u2","op":"c"}', headers: { 'x-event-id': 'e2' } },
      { value: '{"id":"u1","op":"c"}', headers: { 'x-event-id': 'e1' } },
    ]);
    const line = (name: string): RegExp =>
      new RegExp(`^${name}\\{topic="${topic}",store="memory"\\} (\\d+)$`, 'm');
    expect(
      await waitFor(async () => line('kafka_event_deduplicated_total').test(await metrics())),
    ).toBe(true);
    const text = await metrics();
    expect(text).toMatch(line('kafka_events_processed_total'));
    expect(line('kafka_events_processed_total').exec(text)![1]).toBe('2');
    expect(line('kafka_event_deduplicated_total').exec(text)![1]).toBe('1');
  });

  it('serves /metrics that promtool accepts: our families lint-clean, the whole page parseable', async () => {
    const text = await metrics();
    const ours = families(text, ['kafka_', 'grpc_']);
    expect(ours).toContain('# HELP kafka_event_deduplicated_total');
    expect(promtoolCheck(ours)).toBe('');
    // prom-client's own default gauges carry a _total suffix promtool lints; nothing else may show
    const findings = promtoolCheck(text)
      .split('\n')
      .filter((l) => l.trim() !== '' && !/^nodejs_active_\w+_total non-counter metrics/.test(l));
    expect(findings).toEqual([]);
  });
});
