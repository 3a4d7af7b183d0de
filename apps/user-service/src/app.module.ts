import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { DedupModule } from '@nest-resilience/kafka-dedup';
import { GrpcPoolHealthIndicator, GrpcPoolModule } from '@nest-resilience/grpc-pool';
import { authPoolOptions } from './auth/auth-pool.options';
import { AuthGateway } from './auth/auth.gateway';
import { CdcController } from './cdc/cdc.controller';
import { cdcMetricProviders } from './cdc/cdc.metrics';
import { UserChangesWriter } from './cdc/user-changes.writer';
import { validateUserServiceEnv, type UserServiceConfig } from './config/user-service.env';
import { dedupOptions } from './cdc/dedup.options';
import { DatabaseModule } from './database/database.module';
import { UserServiceDatabase } from './database/user-service.database';
import { EventLoopStallHook } from './health/event-loop-stall.hook';
import { EventLoopMonitor } from './health/event-loop.monitor';
import { HealthChecks } from './health/health.checks';
import { HealthController } from './health/health.controller';
import { KafkaConsumerStatus } from './kafka/kafka-consumer.status';
import { KafkaTopicsInitializer } from './kafka/kafka-topics.initializer';
import { UsersGrpcController } from './users/users.grpc.controller';
import { UsersHttpController } from './users/users.http.controller';
import { UsersReader } from './users/users.reader';

/**
 * Root module of user-service. `env` overrides `process.env` (tests); the merged environment is
 * validated once, and a wrong variable stops the start naming it.
 */
@Module({})
export class AppModule {
  static forRoot(env: Record<string, string> = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          validate: (processEnv) => validateUserServiceEnv({ ...processEnv, ...env }),
        }),
        ScheduleModule.forRoot(),
        PrometheusModule.register(),
        TerminusModule,
        DatabaseModule,
        DedupModule.forRootAsync({
          inject: [ConfigService, UserServiceDatabase],
          useFactory: (
            config: ConfigService<UserServiceConfig, true>,
            database: UserServiceDatabase,
          ) => dedupOptions(config, database),
        }),
        GrpcPoolModule.registerAsync({
          name: 'auth',
          inject: [ConfigService],
          useFactory: authPoolOptions,
        }),
      ],
      controllers: [CdcController, UsersHttpController, UsersGrpcController, HealthController],
      providers: [
        ...cdcMetricProviders,
        UserChangesWriter,
        UsersReader,
        AuthGateway,
        GrpcPoolHealthIndicator,
        HealthChecks,
        EventLoopMonitor,
        EventLoopStallHook,
        KafkaConsumerStatus,
        KafkaTopicsInitializer,
      ],
    };
  }
}
