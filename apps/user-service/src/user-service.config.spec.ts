import { loadUserServiceConfig } from './user-service.config';

describe('loadUserServiceConfig', () => {
  it('uses loopback defaults when the environment sets nothing', () => {
    expect(loadUserServiceConfig({})).toEqual({
      kafkaBrokers: ['127.0.0.1:9092'],
      userEventsTopic: 'user-events',
      consumerGroup: 'user-service',
      httpPort: 3000,
      httpHost: '127.0.0.1',
    });
  });

  it('splits a comma-separated broker list', () => {
    expect(loadUserServiceConfig({ KAFKA_BROKERS: 'a:1, b:2' }).kafkaBrokers).toEqual([
      'a:1',
      'b:2',
    ]);
  });
});
