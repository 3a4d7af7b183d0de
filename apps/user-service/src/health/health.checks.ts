import { Injectable } from '@nestjs/common';
import type { HealthIndicatorResult } from '@nestjs/terminus';
import { UserServiceDatabase } from '../database/user-service.database';
import { KafkaConsumerStatus } from '../kafka/kafka-consumer.status';
import { EventLoopMonitor } from './event-loop.monitor';

/** How long the database may take to answer `SELECT 1` in a probe. */
const DATABASE_TIMEOUT_MS = 1_000;

/**
 * The service's own checks as terminus indicators (the libraries' indicators cover the dedup
 * store and the auth pool): the Kafka consumer, the database, the event loop.
 */
@Injectable()
export class HealthChecks {
  constructor(
    private readonly database: UserServiceDatabase,
    private readonly kafka: KafkaConsumerStatus,
    private readonly eventLoop: EventLoopMonitor,
  ) {}

  /** Up once the consumer has joined its group (the group is `Stable`). */
  async kafkaConsumer(): Promise<HealthIndicatorResult> {
    const { up, ...data } = await this.kafka.check();
    return { kafka: { status: up ? 'up' : 'down', ...data } };
  }

  /** `SELECT 1` within {@link DATABASE_TIMEOUT_MS}. */
  async databasePing(): Promise<HealthIndicatorResult> {
    const driver = this.database.driver;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.database.ping(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${DATABASE_TIMEOUT_MS} ms`)),
            DATABASE_TIMEOUT_MS,
          );
        }),
      ]);
      return { database: { status: 'up', driver } };
    } catch (error) {
      return { database: { status: 'down', driver, message: (error as Error).message } };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Always up when it runs (a stuck loop does not answer at all); reports the recent delay. */
  eventLoopDelay(): HealthIndicatorResult {
    return { 'event-loop': { status: 'up', ...this.eventLoop.delay() } };
  }
}
