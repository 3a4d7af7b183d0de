import { KafkaRetriableException, RpcException } from '@nestjs/microservices';
import { DedupInFlightTimeoutError, DedupMissingKeyError, DedupStoreError } from './dedup.errors';

describe('dedup errors', () => {
  it('errors meant to make Kafka redeliver are KafkaRetriableExceptions (so @MessagePattern redelivers too)', () => {
    const stored = new DedupStoreError('claim', 'redis', { cause: new Error('down') });
    const waited = new DedupInFlightTimeoutError('orders', 30_000);
    for (const error of [stored, waited]) {
      expect(error).toBeInstanceOf(KafkaRetriableException);
      expect(error).toBeInstanceOf(Error);
      // ServerKafka hands getError() to kafkajs; for a retriable exception it is the error itself.
      expect(error.getError()).toBe(error);
    }
    expect(stored.name).toBe('DedupStoreError');
    expect(stored.message).toBe('KafkaDedup: redis store failed during claim: down');
    expect(waited.message).toContain('still in flight after 30000 ms');
  });

  it('a missing key is an RpcException answered to the caller, not retried', () => {
    const error = new DedupMissingKeyError('orders', 0, '5', 'no "x-event-id" header');
    expect(error).toBeInstanceOf(RpcException);
    expect(error).not.toBeInstanceOf(KafkaRetriableException);
  });

  it('DedupStoreError carries the cause and the last connection error the store attached', () => {
    const lastConnectionError = new Error('WRONGPASS invalid username-password pair');
    const cause = Object.assign(new Error("Stream isn't writeable"), { lastConnectionError });
    const error = new DedupStoreError('claim', 'redis', { cause });
    expect(error.cause).toBe(cause);
    expect(error.lastConnectionError).toBe(lastConnectionError);
    expect(error.message).toBe(
      "KafkaDedup: redis store failed during claim: Stream isn't writeable (last connection error: WRONGPASS invalid username-password pair)",
    );
  });
});
