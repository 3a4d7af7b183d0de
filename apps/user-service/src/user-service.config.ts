/** Runtime settings of the sample service, read once from the environment. */
export interface UserServiceConfig {
  kafkaBrokers: string[];
  userEventsTopic: string;
  consumerGroup: string;
  httpPort: number;
  httpHost: string;
}

/** Reads {@link UserServiceConfig} from `process.env`, with loopback defaults. */
export function loadUserServiceConfig(env: NodeJS.ProcessEnv = process.env): UserServiceConfig {
  return {
    kafkaBrokers: (env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim()),
    userEventsTopic: env.USER_EVENTS_TOPIC ?? 'user-events',
    consumerGroup: env.KAFKA_GROUP_ID ?? 'user-service',
    httpPort: Number(env.HTTP_PORT ?? 3000),
    httpHost: env.HTTP_HOST ?? '127.0.0.1',
  };
}
