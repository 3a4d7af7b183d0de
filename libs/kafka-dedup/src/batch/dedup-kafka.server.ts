import type { KafkaOptions, ReadPacket } from '@nestjs/microservices';
import type { Batch, EachBatchPayload } from 'kafkajs';
import {
  PreClaimContext,
  type HandlerPlan,
  type HandlerRunner,
  type PlanSink,
} from '../dedup.handler-plan';
import type { DedupTokenedKey } from '../interfaces/dedup-key.interface';
import { BinarySafeServerKafka } from '../keys/binary-safe-kafka-parser';
import { BATCH_CHUNK } from './batch-claims';
import { claimAhead } from './claim-ahead';
import { MIXED, Slot, type LearnedPlan } from './batch-slot';
import { handlerFailure, isRequest, type KafkaJSErrorClass } from './batch-messages';
import { ChunkOffsets } from './chunk-offsets';
import { InboxBatchTransaction } from './inbox-batch.transaction';

/** Processed ids committed at a time (one store call) in batch mode on a non-transactional store. */
const COMMIT_STEP = BATCH_CHUNK / 4;
/**
 * Commits on their way at most while the handlers go on: a store that falls behind for a moment
 * stalls them only after this many steps.
 */
const COMMITS_RIDING = 3;

/** Options of {@link DedupKafkaServer}: Nest's Kafka options. */
export type DedupKafkaServerOptions = Required<KafkaOptions>['options'];

/**
 * Batch mode for high-volume topics: Nest's Kafka server on kafkajs `eachBatch`. The ids of a
 * batch are claimed in one store call (`claimMany`) and committed in one more (`commitMany`);
 * each message still goes through Nest's deserializer, pipes, guards, interceptors and handler.
 *
 * Guarantees, as in per-message mode: a duplicate is skipped (copies inside one batch are
 * processed once); a handler failure releases its id, resolves the offsets processed before it
 * and stops the batch there, so the failed message is redelivered and the earlier ones are not;
 * heartbeats, lease renewal and dedup commits keep going during a long batch; offsets are resolved
 * only for processed messages. Topics whose handler has no `@Deduplicate()` run unchanged.
 *
 * It extends `BinarySafeServerKafka`: headers and keys that are not valid UTF-8 stay Buffers, and
 * each topic's handler is resolved once (Nest's server parses every topic as JSON per message to
 * look for object patterns, throwing each time).
 *
 * @example
 * app.connectMicroservice({
 *   strategy: new DedupKafkaServer({ client: { brokers: ['127.0.0.1:9092'] }, consumer: { groupId: 'users' } }),
 * });
 */
export class DedupKafkaServer extends BinarySafeServerKafka implements PlanSink {
  private readonly learned = new Map<string, LearnedPlan | typeof MIXED>();
  private kafkaJSError?: KafkaJSErrorClass;
  private readonly heartbeatEveryMs: number;
  private lastBeat = Date.now();
  /** Batch-end commits still on their way to the store. */
  private readonly commits = new Set<Promise<void>>();
  /** When each partition's offsets were last committed mid-batch. */
  private readonly offsetCommits = new Map<string, number>();
  /** Mid-batch offset commits at most this often (kafkajs' `autoCommitInterval`, else 1 s). */
  private readonly commitEveryMs?: number;

  constructor(options: DedupKafkaServerOptions) {
    super(options);
    // kafkajs' heartbeat() only talks to the broker once per heartbeatInterval; checking the
    // clock first keeps an await per message out of the loop.
    this.heartbeatEveryMs = options?.consumer?.heartbeatInterval ?? 3_000;
    const run = options?.run;
    this.commitEveryMs = run?.autoCommit === false ? undefined : (run?.autoCommitInterval ?? 1_000);
  }

  override async createClient<T = unknown>(): Promise<T> {
    const kafkajs = (await this.loadPackage(
      'kafkajs',
      DedupKafkaServer.name,
      () => import('kafkajs'),
    )) as { KafkaJSError?: KafkaJSErrorClass; default?: { KafkaJSError?: KafkaJSErrorClass } };
    this.kafkaJSError = kafkajs.KafkaJSError ?? kafkajs.default?.KafkaJSError;
    return super.createClient<T>();
  }

  override async bindEvents(
    consumer: Parameters<BinarySafeServerKafka['bindEvents']>[0],
  ): Promise<void> {
    const topics = [...this.messageHandlers.keys()];
    if (topics.length > 0) {
      await consumer.subscribe({ ...this.options.subscribe, topics });
    }
    await consumer.run({
      ...this.options.run,
      // Offsets are resolved message by message, only once processed.
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.handleBatch(payload as unknown as EachBatchPayload),
    });
  }

  /** @internal Called by deduplicated handlers: how `topic` is keyed. */
  learn(topic: string, plan: HandlerPlan, runner: HandlerRunner): void {
    const known = this.learned.get(topic);
    if (known === undefined) this.learned.set(topic, { plan, runner });
    else if (known !== MIXED && (known.plan !== plan || known.runner !== runner))
      this.learned.set(topic, MIXED); // several deduplicated handlers: each claims its own
  }

  /** @internal */
  async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { topic, partition } = payload.batch;
    const offsets = new ChunkOffsets(
      payload,
      topic,
      partition,
      this.commitEveryMs,
      this.offsetCommits,
    );
    try {
      await this.runBatch(payload, offsets);
    } catch (error) {
      await offsets.settle().catch(() => undefined); // the batch's own failure is what counts
      throw error;
    }
    // Mid-batch offset commits are done before kafkajs commits the batch's end.
    await offsets.settle();
  }

  private async runBatch(payload: EachBatchPayload, offsets: ChunkOffsets): Promise<void> {
    const { batch, heartbeat, isRunning, isStale } = payload;
    const { topic, partition } = batch;
    const handler = this.getHandlerByPattern(topic);
    const slots = this.prepare(batch, payload, handler);
    let learned = this.learnedPlan(topic);
    if (learned && inTransactions(learned)) {
      await this.inTransactions(learned, slots, payload, offsets).run(0);
      return this.beatIfDue(heartbeat);
    }
    let claims = learned ? claimAhead(learned, slots, topic, 0) : undefined;
    // Not known yet: the first message runs per message and teaches it; the rest is claimed then.
    let learning = learned === undefined && !this.learned.has(topic);

    const toCommit: DedupTokenedKey[] = [];
    let processed: string | undefined;
    let reached = 0;
    /**
     * Commits on their way, oldest first, each resolving its offsets once it and the ones before it
     * are done (so offsets only move forward).
     */
    const riding: Array<Promise<void>> = [];
    /** Commits the processed ids, then resolves their offsets (a crash between: redelivered, skipped). */
    const flush = async (wait: boolean): Promise<void> => {
      await riding[riding.length - 1];
      riding.length = 0;
      if (learned && toCommit.length > 0) {
        const commit = learned.runner.service.commitBatch(toCommit.splice(0), topic, true);
        // At the end of a batch the commit rides ahead of the next batch's claim on the store's
        // connection instead of holding it (commitBatch never rejects). Shutdown waits for it.
        if (wait) await commit;
        else this.track(commit);
      }
      if (processed !== undefined) offsets.resolve(processed);
    };

    try {
      for (; reached < slots.length; reached++) {
        if (!isRunning() || isStale()) break;
        if (claims !== undefined && !claims.isReady(reached)) await claims.ready(reached);
        const slot = slots[reached];
        if (!this.skips(slot, slots)) {
          try {
            await this.dispatch(slot, topic, partition, payload);
          } catch (error) {
            await flush(true);
            if (learned && slot.claim)
              await learned.runner.service.releaseBatch([slot.claim], topic, true);
            slot.claim = undefined;
            throw this.failure(topic, partition, slot.message.offset, error);
          }
          if (slot.claim) {
            toCommit.push(slot.claim);
            slot.claim = undefined;
          }
        }
        processed = slot.message.offset;
        // A crash repeats at most one chunk: up to COMMITS_RIDING steps' commits ride along while
        // the next step runs; the oldest is done before another starts — (COMMITS_RIDING + 1) ×
        // COMMIT_STEP = BATCH_CHUNK handler calls uncommitted at most.
        if (toCommit.length >= COMMIT_STEP) {
          if (riding.length >= COMMITS_RIDING) await riding.shift();
          const upTo = processed;
          const commit = learned!.runner.service.commitBatch(toCommit.splice(0), topic, true);
          const before = riding[riding.length - 1];
          riding.push(
            (before === undefined ? commit : before.then(() => commit)).then(() =>
              offsets.resolve(upTo),
            ),
          );
          await offsets.commitIfDue();
        }
        if (learning) {
          learning = false;
          learned = this.learnedPlan(topic);
          if (learned && inTransactions(learned)) {
            await flush(true);
            reached = await this.inTransactions(learned, slots, payload, offsets).run(reached + 1);
            return this.beatIfDue(heartbeat);
          }
          if (learned) claims = claimAhead(learned, slots, topic, reached + 1);
        }
        if (this.beatDue()) {
          await flush(true);
          this.lastBeat = Date.now();
          await heartbeat();
        }
      }
      await flush(false);
      await this.beatIfDue(heartbeat);
    } finally {
      // Claims of messages never reached (a failure, a rebalance, a stop) go back at once.
      if (learned && claims) {
        const unreached = await claims.drain();
        for (let i = reached; i < slots.length; i++) {
          const claim = slots[i].claim;
          if (claim) unreached.push(claim);
        }
        await learned.runner.service.releaseBatch(unreached, topic, true);
        claims.close();
      }
    }
  }

  /** Waits for the commits still riding on the store's connection, then stops the consumer. */
  override async close(): Promise<void> {
    await super.close();
    await Promise.all(this.commits);
  }

  /**
   * kafkajs only heartbeats on its own after an empty fetch: a stream of short batches must beat
   * too, once per heartbeatInterval across batches.
   */
  private async beatIfDue(heartbeat: () => Promise<void>): Promise<void> {
    if (this.beatDue()) {
      this.lastBeat = Date.now();
      await heartbeat();
    }
  }

  /** Whether a heartbeat is due (checked per message without a promise). */
  private beatDue(): boolean {
    return Date.now() - this.lastBeat >= this.heartbeatEveryMs;
  }

  /** The rest of a batch in batch transactions (`batchTransactions` of a transactional store). */
  private inTransactions(
    learned: LearnedPlan,
    slots: Slot[],
    payload: EachBatchPayload,
    offsets: ChunkOffsets,
  ): InboxBatchTransaction {
    const { topic, partition } = payload.batch;
    return new InboxBatchTransaction(
      learned,
      learned.runner.service.store.batchTransactions!,
      slots,
      topic,
      partition,
      payload,
      {
        dispatch: (slot) => this.dispatch(slot as Slot, topic, partition, payload),
        failure: (t, p, offset, error) => this.failure(t, p, offset, error),
        beat: () => (this.beatDue() ? this.beatIfDue(payload.heartbeat) : undefined),
      },
      offsets,
    );
  }

  private track(commit: Promise<void>): void {
    this.commits.add(commit);
    void commit.finally(() => this.commits.delete(commit));
  }

  /** Parses the batch's events into contexts; requests keep Nest's own request path. */
  private prepare(
    batch: Batch,
    payload: EachBatchPayload,
    handler: ReturnType<BinarySafeServerKafka['getHandlerByPattern']>,
  ): Slot[] {
    const { topic, partition } = batch;
    const slots: Slot[] = [];
    for (let i = 0; i < batch.messages.length; i++) {
      const message = batch.messages[i];
      if (!handler?.isEventHandler && isRequest(message)) {
        slots.push(new Slot(message, null));
        continue;
      }
      const raw = this.parser!.parse(Object.assign(message, { topic, partition }));
      const context = new PreClaimContext(
        [raw, partition, topic, this.consumer!, payload.heartbeat, this.producer!],
        this,
        false,
      );
      slots.push(new Slot(message, context));
    }
    return slots;
  }

  private learnedPlan(topic: string): LearnedPlan | undefined {
    const known = this.learned.get(topic);
    return known === MIXED ? undefined : known;
  }

  /** Whether the message is skipped: a duplicate, or a later copy of an id processed above. */
  private skips(slot: Slot, slots: Slot[]): boolean {
    if (slot.copyOf !== undefined) {
      const original = slots[slot.copyOf];
      // The first copy ran (else the batch stopped at it): this one is a duplicate, unless the
      // first copy was not pre-claimed (in flight elsewhere), then its own path decides.
      if (original.context?.preClaimed || original.skip) {
        this.learnedService(slot)?.countBatch(slot.context!.getTopic(), 0, 1);
        return true;
      }
      return false;
    }
    return slot.skip === true;
  }

  private learnedService(slot: Slot) {
    const known = slot.context ? this.learned.get(slot.context.getTopic()) : undefined;
    return known === undefined || known === MIXED ? undefined : known.runner.service;
  }

  /**
   * Runs one message through Nest's handler path; rejects (or throws) when the handler failed. Not
   * an async function: one promise per message fewer, Nest's own being handed on.
   */
  private dispatch(
    slot: Slot,
    topic: string,
    partition: number,
    payload: EachBatchPayload,
  ): Promise<void> {
    const context = slot.context;
    if (context === null) {
      return this.handleMessage({
        topic,
        partition,
        message: slot.message,
        heartbeat: payload.heartbeat,
        pause: payload.pause,
      } as never) as Promise<void>;
    }
    const packet = this.deserializer.deserialize(context.getMessage(), { channel: topic }) as
      ReadPacket | Promise<ReadPacket>;
    if (packet instanceof Promise)
      return packet.then((read) => this.handleEvent(topic, read, context) as Promise<void>);
    return this.handleEvent(topic, packet, context) as Promise<void>;
  }

  /** Logs the failure once and answers what kafkajs redelivers from. */
  private failure(topic: string, partition: number, offset: string, error: unknown): Error {
    return handlerFailure(
      this.logger,
      this.kafkaJSError,
      `${topic}[${partition}]@${offset}`,
      error,
    );
  }
}

/** Whether a topic's batches run in batch transactions (a transactional store that offers them). */
function inTransactions(learned: LearnedPlan): boolean {
  const service = learned.runner.service;
  return service.enabled && service.store.batchTransactions !== undefined;
}
