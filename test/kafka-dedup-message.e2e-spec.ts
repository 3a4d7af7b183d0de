import { Controller, INestMicroservice, Module } from '@nestjs/common';
import {
  ClientKafka,
  MessagePattern,
  MicroserviceOptions,
  Payload,
  Transport,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import { firstValueFrom } from 'rxjs';
import { DedupModule, Deduplicate } from '@nest-resilience/kafka-dedup';
import { KAFKA_BROKER, createTopic, uniqueTopic } from './support/kcat';

const topic = uniqueTopic('dedup-rpc');
const defaultTopic = `${topic}-default`;
let handled = 0;

@Controller()
class RpcController {
  @MessagePattern<string>(topic)
  @Deduplicate({ onMissingKey: 'error' })
  handle(@Payload() value: { id: string }): { processed: string } {
    handled++;
    return { processed: value.id };
  }

  @MessagePattern<string>(defaultTopic)
  @Deduplicate()
  handleDefault(@Payload() value: { id: string }): { processed: string } {
    handled++;
    return { processed: value.id };
  }
}

@Module({
  imports: [DedupModule.forRoot({ duplicateReply: (id) => ({ duplicate: true, id }) })],
  controllers: [RpcController],
})
class RpcModule {}

@Module({ imports: [DedupModule.forRoot({})], controllers: [RpcController] })
class DefaultReplyModule {}

describe('kafka-dedup on @MessagePattern handlers (real Kafka, Nest ClientKafka caller)', () => {
  let server: INestMicroservice;
  let client: ClientKafka;

  async function start(module: unknown, group: string): Promise<void> {
    register.clear();
    const moduleRef = await Test.createTestingModule({ imports: [module as never] }).compile();
    server = moduleRef.createNestMicroservice<MicroserviceOptions>({
      transport: Transport.KAFKA,
      logger: ['error'],
      options: {
        client: { clientId: group, brokers: [KAFKA_BROKER] },
        consumer: { groupId: group, heartbeatInterval: 500 },
      },
    });
    await server.listen();
    client = new ClientKafka({
      client: { clientId: `${group}-caller`, brokers: [KAFKA_BROKER] },
      consumer: { groupId: `${group}-caller`, heartbeatInterval: 500 },
    });
    client.subscribeToResponseOf(topic);
    client.subscribeToResponseOf(defaultTopic);
    await client.connect();
  }

  const call = (pattern: string, id: string | undefined) =>
    firstValueFrom(
      client.send(pattern, {
        value: { id },
        headers: id === undefined ? {} : { 'x-event-id': id },
      }),
      { defaultValue: 'no value' },
    );

  beforeAll(async () => {
    for (const t of [topic, `${topic}.reply`, defaultTopic, `${defaultTopic}.reply`])
      await createTopic(t);
  });

  afterEach(async () => {
    await client?.close();
    await server?.close();
  });

  it('replies duplicateReply(id) to a duplicate request and does not run the handler again', async () => {
    await start(RpcModule, `${topic}-a`);
    handled = 0;
    expect(await call(topic, 'req-1')).toEqual({ processed: 'req-1' });
    expect(await call(topic, 'req-1')).toEqual({ duplicate: true, id: 'req-1' });
    expect(handled).toBe(1);
  });

  it('sends the caller an error for a request without an id (onMissingKey: error), and keeps serving', async () => {
    await start(RpcModule, `${topic}-b`);
    handled = 0;
    await expect(call(topic, undefined)).rejects.toMatchObject({
      status: 'error',
      message: expect.stringContaining('no event id'),
    });
    expect(await call(topic, 'req-2')).toEqual({ processed: 'req-2' });
    expect(handled).toBe(1);
  });

  it('delivers null to the caller of a duplicate request by default', async () => {
    await start(DefaultReplyModule, `${topic}-c`);
    handled = 0;
    expect(await call(defaultTopic, 'req-3')).toEqual({ processed: 'req-3' });
    expect(await call(defaultTopic, 'req-3')).toBeNull(); // Nest's serializer sends undefined as null
    expect(handled).toBe(1);
  });
});
