import { EventEmitter } from 'node:events';
import type { Consumer, GroupDescription } from 'kafkajs';
import { KafkaConsumerStatus } from './kafka-consumer.status';

const EVENTS = {
  GROUP_JOIN: 'consumer.group_join',
  HEARTBEAT: 'consumer.heartbeat',
  REBALANCING: 'consumer.rebalancing',
  CRASH: 'consumer.crash',
  STOP: 'consumer.stop',
};

/** A consumer reduced to its events and `describeGroup` (what the status reads). */
function fakeConsumer(state = 'Stable'): {
  consumer: Consumer;
  emit(event: string, payload?: object): void;
  asked: () => number;
} {
  const emitter = new EventEmitter();
  let asked = 0;
  const consumer = {
    events: EVENTS,
    on: (event: string, listener: (e: unknown) => void) => emitter.on(event, listener),
    describeGroup: async (): Promise<GroupDescription> => {
      asked++;
      return { groupId: 'g', state, members: [{}] } as unknown as GroupDescription;
    },
  } as unknown as Consumer;
  return {
    consumer,
    emit: (event, payload = {}) => emitter.emit(event, { payload }),
    asked: () => asked,
  };
}

describe('KafkaConsumerStatus', () => {
  afterEach(() => jest.useRealTimers());

  it('asks the broker until membership is confirmed, then answers from events alone', async () => {
    const status = new KafkaConsumerStatus();
    expect(await status.check()).toMatchObject({ up: false, state: 'starting' });
    const fake = fakeConsumer();
    status.watch(fake.consumer);
    expect(await status.check()).toMatchObject({ up: true, state: 'Stable' });
    expect(await status.check()).toMatchObject({ up: true, state: 'joined' });
    expect(fake.asked()).toBe(1);
  });

  it('stays up during a rebalance (every member rebalances at once), down after a crash until it rejoins', async () => {
    const status = new KafkaConsumerStatus();
    const fake = fakeConsumer('Empty');
    status.watch(fake.consumer);
    expect(await status.check()).toMatchObject({ up: false, state: 'Empty' });
    fake.emit(EVENTS.GROUP_JOIN, { groupId: 'g', memberAssignment: { t: [0, 1] } });
    expect(await status.check()).toEqual({
      up: true,
      state: 'joined',
      detail: 'member of g, 2 partition(s) assigned',
    });
    fake.emit(EVENTS.REBALANCING);
    expect(await status.check()).toMatchObject({ up: true, state: 'rebalancing' });
    fake.emit(EVENTS.CRASH, { error: new Error('broker gone') });
    expect(await status.check()).toMatchObject({ up: false, state: 'crashed: broker gone' });
    fake.emit(EVENTS.GROUP_JOIN, { groupId: 'g', memberAssignment: { t: [0] } });
    expect(await status.check()).toMatchObject({ up: true, state: 'joined' });
    fake.emit(EVENTS.STOP);
    expect(await status.check()).toMatchObject({ up: false, state: 'stopped' });
  });

  it('is down once no heartbeat came for a session timeout (the broker dropped the member)', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const status = new KafkaConsumerStatus();
    const fake = fakeConsumer();
    status.watch(fake.consumer);
    fake.emit(EVENTS.GROUP_JOIN, { groupId: 'g', memberAssignment: {} });
    jest.setSystemTime(1_000_000 + 25_000);
    fake.emit(EVENTS.HEARTBEAT);
    jest.setSystemTime(1_000_000 + 50_000);
    expect((await status.check()).up).toBe(true);
    jest.setSystemTime(1_000_000 + 56_000);
    expect(await status.check()).toMatchObject({ up: false, detail: 'no heartbeat for 31000 ms' });
  });
});
