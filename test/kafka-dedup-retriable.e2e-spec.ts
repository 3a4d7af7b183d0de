import { Controller, INestMicroservice, Module } from '@nestjs/common';
import {
  ClientKafka,
  MessagePattern,
  Payload,
  Transport,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import { firstValueFrom } from 'rxjs';
import { DedupModule, Deduplicate } from '@nest-resilience/kafka-dedup';
import { createTopic, KAFKA_BROKER, uniqueTopic } from './support/kcat';
import { PrivateRedis } from './support/redis-server';
import { sleep } from './support/wait';

const topic = uniqueTopic('dedup-retriable');
const redis = new PrivateRedis(17900 + Math.floor(Math.random() * 90));
let handled = 0;

@Controller()
class RpcController {
  @MessagePattern<string>(topic)
  @Deduplicate()
  handle(@Payload() value: { id: string }): { processed: string } {
    handled++;
    return { processed: value.id };
  }
}

/**
 * DedupStoreError (onStoreError: 'throw') is a KafkaRetriableException: Nest's Kafka server does
 * not answer a @MessagePattern caller with the error but lets kafkajs redeliver the request.
 */
describe('kafka-dedup store errors on a @MessagePattern handler (real Kafka, private Redis)', () => {
  let server: INestMicroservice;
  let client: ClientKafka;

  beforeAll(async () => {
    register.clear();
    await redis.start();
    for (const t of [topic, `${topic}.reply`]) await createTopic(t);
    @Module({
      imports: [
        DedupModule.forRoot({
          store: 'redis',
          onStoreError: 'throw',
          redis: { url: redis.url, keyPrefix: 'retriable:' },
        }),
      ],
      controllers: [RpcController],
    })
    class RpcModule {}
    const moduleRef = await Test.createTestingModule({ imports: [RpcModule] }).compile();
    server = moduleRef.createNestMicroservice<MicroserviceOptions>({
      transport: Transport.KAFKA,
      logger: false, // kafkajs logs every redelivery attempt as an error
      options: {
        client: { clientId: `${topic}-server`, brokers: [KAFKA_BROKER] },
        consumer: {
          groupId: `${topic}-server`,
          heartbeatInterval: 500,
          retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1_000 },
        },
      },
    });
    await server.listen();
    client = new ClientKafka({
      client: { clientId: `${topic}-caller`, brokers: [KAFKA_BROKER] },
      consumer: { groupId: `${topic}-caller`, heartbeatInterval: 500 },
    });
    client.subscribeToResponseOf(topic);
    await client.connect();
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await server?.close();
    await redis.stop();
  });

  it('redelivers the request while Redis is down instead of answering with an error, then answers once', async () => {
    await redis.stop();
    let settled: unknown;
    const reply = firstValueFrom(
      client.send(topic, { value: { id: 'r1' }, headers: { 'x-event-id': 'r1' } }),
    ).then(
      (value) => (settled = { value }),
      (error: unknown) => (settled = { error }),
    );
    await sleep(2_000);
    expect(settled).toBeUndefined(); // no error reply: the request is held back, not answered
    expect(handled).toBe(0);
    await redis.start();
    await reply;
    expect(settled).toEqual({ value: { processed: 'r1' } });
    expect(handled).toBe(1);
  }, 60_000);
});
