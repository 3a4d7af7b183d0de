import { Injectable } from '@nestjs/common';
import type { Consumer } from 'kafkajs';

/** What `/health` reports about the Kafka consumer. */
export interface ConsumerHealth {
  up: boolean;
  state: string;
  detail?: string;
}

/** kafkajs' default session timeout: a member silent for longer is out of the group. */
const SESSION_TIMEOUT_MS = 30_000;
/** Group states in which this consumer is a member (a rebalance does not end membership). */
const MEMBER_STATES = new Set(['Stable', 'PreparingRebalance', 'CompletingRebalance']);

/**
 * Follows the hybrid app's Kafka consumer, for the health endpoints, from its own events: no
 * broker round trip per probe (under load a request to the group coordinator took up to 300 ms,
 * most of a readiness answer). `watch()` is called once the microservice has started, by when the
 * first join has usually happened: until an event or a heartbeat confirms membership, the group is
 * asked from the broker once per check.
 *
 * Up while joined and heartbeating; a rebalance in progress is reported but stays up — every member
 * of the group rebalances at once, and failing readiness on it would take every replica out of
 * rotation together at each deploy. Down after a crash (until kafkajs rejoins), after a stop, or
 * when no heartbeat came for a session timeout (the broker has dropped the member).
 */
@Injectable()
export class KafkaConsumerStatus {
  private consumer?: Consumer;
  private failure?: string;
  private member?: string;
  private rebalancing = false;
  private lastHeartbeat = 0;

  watch(consumer: Consumer): void {
    this.consumer = consumer;
    const { GROUP_JOIN, HEARTBEAT, REBALANCING, CRASH, STOP } = consumer.events;
    consumer.on(GROUP_JOIN, (e) => {
      const partitions = Object.values(e.payload.memberAssignment).flat().length;
      this.joined(`member of ${e.payload.groupId}, ${partitions} partition(s) assigned`);
    });
    consumer.on(HEARTBEAT, () => {
      this.lastHeartbeat = Date.now();
    });
    consumer.on(REBALANCING, () => {
      this.rebalancing = true;
    });
    consumer.on(CRASH, (e) => {
      // kafkajs restarts the consumer after a retriable crash; the next join clears this.
      this.failure = `crashed: ${e.payload.error?.message ?? 'unknown error'}`;
    });
    consumer.on(STOP, () => {
      this.failure = 'stopped';
    });
  }

  async check(timeoutMs = 2000): Promise<ConsumerHealth> {
    if (!this.consumer) return { up: false, state: 'starting' };
    if (this.failure) return { up: false, state: this.failure };
    if (this.member === undefined) return this.askBroker(timeoutMs);
    const silentMs = Date.now() - this.lastHeartbeat;
    if (silentMs > SESSION_TIMEOUT_MS)
      return { up: false, state: 'unknown', detail: `no heartbeat for ${silentMs} ms` };
    return {
      up: true,
      state: this.rebalancing ? 'rebalancing' : 'joined',
      detail: this.member,
    };
  }

  private joined(detail: string): void {
    this.member = detail;
    this.failure = undefined;
    this.rebalancing = false;
    this.lastHeartbeat = Date.now();
  }

  private async askBroker(timeoutMs: number): Promise<ConsumerHealth> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const group = await Promise.race([
        this.consumer!.describeGroup(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
      const detail = `${group.members.length} member(s) in ${group.groupId}`;
      if (group.state === 'Stable' && this.member === undefined && !this.failure)
        this.joined(detail);
      return { up: MEMBER_STATES.has(group.state), state: group.state, detail };
    } catch (error) {
      return { up: false, state: 'unknown', detail: (error as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }
}
