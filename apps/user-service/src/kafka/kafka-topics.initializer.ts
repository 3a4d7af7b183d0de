import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Kafka, logLevel } from 'kafkajs';
import type { UserServiceConfig } from '../config/user-service.env';

/**
 * Before the consumer starts: waits for the broker (bounded retries, one clear log line each) and
 * creates the CDC topic when it is missing, so a fresh broker does not fail the first start with
 * "This server does not host this topic-partition".
 */
@Injectable()
export class KafkaTopicsInitializer implements OnModuleInit {
  private readonly logger = new Logger('KafkaStartup');

  constructor(private readonly config: ConfigService<UserServiceConfig, true>) {}

  async onModuleInit(): Promise<void> {
    const brokers = this.config.get('kafkaBrokers', { infer: true });
    const topic = this.config.get('cdcTopic', { infer: true });
    const partitions = this.config.get('cdcTopicPartitions', { infer: true });
    const retries = this.config.get('kafkaStartupRetries', { infer: true });
    const admin = new Kafka({
      clientId: 'user-service-admin',
      brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      connectionTimeout: 2000,
    }).admin();
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.connect();
        break;
      } catch (error) {
        if (attempt > retries) {
          throw new Error(
            `Kafka broker ${brokers.join(',')} unreachable after ${attempt} attempts: ${(error as Error).message}`,
          );
        }
        this.logger.warn(
          `waiting for the Kafka broker at ${brokers.join(',')} (attempt ${attempt}/${retries + 1}): ${(error as Error).message}`,
        );
        await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** attempt, 2000)));
      }
    }
    try {
      const existing = await admin.listTopics();
      if (!existing.includes(topic)) {
        // createTopics is idempotent across replicas starting together (false = it already existed).
        const created = await admin.createTopics({
          topics: [{ topic, numPartitions: partitions }],
          waitForLeaders: true,
        });
        this.logger.log(
          created ? `created topic ${topic} (${partitions} partitions)` : `topic ${topic} exists`,
        );
      }
    } finally {
      await admin.disconnect();
    }
  }
}
