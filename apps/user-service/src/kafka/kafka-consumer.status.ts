import { Injectable } from '@nestjs/common';
import type { Consumer } from 'kafkajs';

/** What `/health` reports about the Kafka consumer. */
export interface ConsumerHealth {
  up: boolean;
  state: string;
  detail?: string;
}

/**
 * Follows the hybrid app's Kafka consumer, for `/health`. `watch()` is called once the
 * microservice has started (the consumer exists only then); by then it may already have joined,
 * so the group's state is asked from the broker on each check, and crash/stop events are tracked.
 */
@Injectable()
export class KafkaConsumerStatus {
  private consumer?: Consumer;
  private failure?: string;

  watch(consumer: Consumer): void {
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (e) => {
      // kafkajs restarts the consumer after a retriable crash; the next join clears this.
      this.failure = `crashed: ${e.payload.error?.message ?? 'unknown error'}`;
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.failure = undefined;
    });
    consumer.on(consumer.events.STOP, () => {
      this.failure = 'stopped';
    });
  }

  async check(timeoutMs = 2000): Promise<ConsumerHealth> {
    if (!this.consumer) return { up: false, state: 'starting' };
    if (this.failure) return { up: false, state: this.failure };
    let timer: NodeJS.Timeout | undefined;
    try {
      const group = await Promise.race([
        this.consumer.describeGroup(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
      return {
        up: group.state === 'Stable',
        state: group.state,
        detail: `${group.members.length} member(s) in ${group.groupId}`,
      };
    } catch (error) {
      return { up: false, state: 'unknown', detail: (error as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }
}
