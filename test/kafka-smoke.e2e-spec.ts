import { Controller, INestMicroservice, Module } from '@nestjs/common';
import {
  Ctx,
  EventPattern,
  KafkaContext,
  MicroserviceOptions,
  Payload,
  Transport,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { KAFKA_BROKER, createTopic, kcatProduce, uniqueTopic } from './support/kcat';
import { waitFor } from './support/wait';

const topic = uniqueTopic('smoke');
const received: { value: unknown; headers: Record<string, unknown> }[] = [];

@Controller()
class SmokeController {
  @EventPattern<string>(topic)
  handle(@Payload() value: unknown, @Ctx() ctx: KafkaContext): void {
    received.push({ value, headers: { ...ctx.getMessage().headers } });
  }
}

@Module({ controllers: [SmokeController] })
class SmokeModule {}

describe('Kafka rig (real broker, kcat producer)', () => {
  let app: INestMicroservice;

  beforeAll(async () => {
    await createTopic(topic);
    const moduleRef = await Test.createTestingModule({ imports: [SmokeModule] }).compile();
    app = moduleRef.createNestMicroservice<MicroserviceOptions>({
      transport: Transport.KAFKA,
      options: {
        client: { clientId: 'smoke', brokers: [KAFKA_BROKER], retry: { retries: 2 } },
        consumer: { groupId: `${topic}-group`, sessionTimeout: 10_000, heartbeatInterval: 1_000 },
        subscribe: { fromBeginning: true },
      },
    });
    await app.listen();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('delivers a message that kcat produced, with its header, to an @EventPattern handler', async () => {
    kcatProduce(topic, [
      { key: 'k1', value: '{"hello":"kafka"}', headers: { 'x-event-id': 'evt-1' } },
    ]);
    expect(await waitFor(() => received.length > 0)).toBe(true);
    expect(received[0].value).toEqual({ hello: 'kafka' });
    expect(received[0].headers['x-event-id']).toBe('evt-1');
  });
});
