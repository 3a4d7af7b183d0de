import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { DedupHealthIndicator } from '@nest-resilience/kafka-dedup';
import { GrpcPoolHealthIndicator } from '@nest-resilience/grpc-pool';
import { AuthGateway } from '../auth/auth.gateway';
import { UserServiceDatabase } from '../database/user-service.database';
import { KafkaConsumerStatus } from '../kafka/kafka-consumer.status';

/**
 * `GET /health`: the Kafka consumer (joined its group), the dedup store, the auth gRPC pool (at
 * least one connection with a closed circuit) and the database (`SELECT 1`). 503 when one is down.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly dedup: DedupHealthIndicator,
    private readonly grpcPool: GrpcPoolHealthIndicator,
    private readonly auth: AuthGateway,
    private readonly database: UserServiceDatabase,
    private readonly kafka: KafkaConsumerStatus,
  ) {}

  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([
      async () => {
        const { up, ...data } = await this.kafka.check();
        return { kafka: { status: up ? 'up' : 'down', ...data } };
      },
      () => this.dedup.isHealthy('dedup-store'),
      () => this.grpcPool.isHealthy(this.auth.pool),
      async () => {
        try {
          await this.database.ping();
          return { database: { status: 'up', driver: this.database.driver } };
        } catch (error) {
          const message = (error as Error).message;
          return { database: { status: 'down', driver: this.database.driver, message } };
        }
      },
    ]);
  }
}
