import { Module } from '@nestjs/common';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { DedupModule, dedupOptionsFromEnv } from '@nest-resilience/kafka-dedup';
import { UserEventsController } from './user-events/user-events.controller';
import { loadUserServiceConfig } from './user-service.config';

const config = loadUserServiceConfig();

/**
 * Root module of the sample user-service: consumes the user CDC stream, deduplicated by event id
 * (`x-event-id` header), and serves Prometheus metrics on GET /metrics. The seed's rollback knobs
 * (`KAFKA_DEDUP_TTL_SECONDS=0`, `KAFKA_DEDUP_STORE=redis`, …) are read from the environment.
 */
@Module({
  imports: [
    PrometheusModule.register(),
    DedupModule.forRoot({ group: config.consumerGroup, ...dedupOptionsFromEnv() }),
  ],
  controllers: [UserEventsController],
})
export class AppModule {}
