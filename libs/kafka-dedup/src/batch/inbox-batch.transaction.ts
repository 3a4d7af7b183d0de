import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { HandlerPlan, HandlerRunner, PreClaimContext } from '../dedup.handler-plan';
import type { DedupKey } from '../interfaces/dedup-key.interface';
import type { DedupKafkaMessage } from '../interfaces/dedup-options.interface';
import type { BatchTransactionLimits } from '../stores/dedup.store';
import { FirstCopies } from './first-copies';
import type { ChunkOffsets } from './chunk-offsets';

/** A message of the batch as the batch transaction sees it. @internal */
export interface TransactionSlot {
  readonly message: KafkaMessage;
  readonly context: PreClaimContext | null;
}

/** What the server lends the batch transaction. @internal */
export interface ChunkHost {
  /** Runs one message through Nest's handler path; rejects when the handler failed. */
  dispatch(slot: TransactionSlot): Promise<void>;
  /** Logs a failure and answers what to throw to kafkajs so it redelivers from `offset`. */
  failure(topic: string, partition: number, offset: string, error: unknown): Error;
  /** Heartbeats when one is due: a promise then, else nothing to wait for. */
  beat(): Promise<void> | undefined;
}

/**
 * SQLSTATEs after which the whole chunk is redelivered rather than re-run up to the failed
 * message: serialization failure, deadlock, statement timeout / cancel, lock timeout, and the
 * server going away (class 08 and the shutdown codes).
 */
const TRANSIENT = new Set(['40001', '40P01', '57014', '55P03', '57P01', '57P02', '57P03']);

const STOP = new Error('KafkaDedup: handler failed inside a batch transaction');

/**
 * Batch mode on a transactional store with `batchTransactions` (the PostgreSQL inbox): the
 * messages of one partition's batch run in chunks of at most `maxMessages` (and `maxMs` of
 * handler time), each chunk ONE transaction — every id claimed in one statement, the handlers of
 * the new ids in order on that transaction, one COMMIT — then its offsets are resolved.
 *
 * A handler throwing at message k rolls the chunk back; messages before k run again in a fresh
 * transaction and commit (repeating their side effects outside the database), and k is thrown to
 * kafkajs, which redelivers it. A store failure (claim, COMMIT, an aborted transaction) or a
 * transient database error (deadlock, serialization failure, timeouts, a restart) rolls back and
 * redelivers the whole chunk. Messages without an id, and requests, run on their own path between
 * chunks. @internal
 */
export class InboxBatchTransaction {
  private readonly keys: Array<DedupKey | undefined>;

  constructor(
    private readonly learned: { readonly plan: HandlerPlan; readonly runner: HandlerRunner },
    private readonly limits: BatchTransactionLimits,
    private readonly slots: readonly TransactionSlot[],
    private readonly topic: string,
    private readonly partition: number,
    private readonly payload: Pick<EachBatchPayload, 'isRunning' | 'isStale'>,
    private readonly host: ChunkHost,
    private readonly offsets: ChunkOffsets,
  ) {
    const { plan, runner } = learned;
    this.keys = slots.map((slot) => {
      if (slot.context === null) return undefined;
      const key = runner.keyOf(plan, slot.context.getMessage() as DedupKafkaMessage, slot.context);
      return 'scope' in key ? key : undefined;
    });
  }

  /** Runs `slots[from…]`; answers the index reached (kafkajs may stop it); throws to redeliver. */
  async run(from: number): Promise<number> {
    let i = from;
    while (i < this.slots.length) {
      if (!this.payload.isRunning() || this.payload.isStale()) break;
      if (this.keys[i] === undefined) {
        const slot = this.slots[i];
        try {
          await this.host.dispatch(slot);
        } catch (error) {
          throw this.host.failure(this.topic, this.partition, slot.message.offset, error);
        }
        this.offsets.resolve(slot.message.offset);
        const beat = this.host.beat();
        if (beat !== undefined) await beat;
        i++;
        continue;
      }
      let end = i + 1;
      const cap = Math.min(this.slots.length, i + this.limits.maxMessages);
      while (end < cap && this.keys[end] !== undefined) end++;
      i = await this.chunk(i, end);
      await this.offsets.commitIfDue();
    }
    return i;
  }

  /** Runs `slots[a, b)` in one transaction; answers the index reached, or throws to redeliver. */
  private async chunk(a: number, b: number): Promise<number> {
    const service = this.learned.runner.service;
    const keys: DedupKey[] = [];
    const owners: number[] = [];
    const seen = new FirstCopies();
    for (let j = a; j < b; j++) {
      const key = this.keys[j]!;
      // A copy: skipped once its first copy ran (or was done).
      if (seen.firstOf(key, j) !== undefined) continue;
      keys.push(key);
      owners.push(j);
    }
    let reached = a;
    let processed = 0;
    let duplicates = 0;
    let stop: { at: number; error: unknown } | undefined;
    try {
      await service.runBatchTransaction(
        keys,
        async (claimed) => {
          processed = duplicates = 0;
          const started = Date.now();
          let k = 0;
          for (let j = a; j < b; j++) {
            if (j > a && Date.now() - started >= this.limits.maxMs) {
              reached = j;
              return k;
            }
            const fresh = owners[k] === j ? claimed[k++] : false;
            if (!fresh) {
              duplicates++;
              continue;
            }
            const slot = this.slots[j];
            slot.context!.preClaimed = true;
            try {
              await this.host.dispatch(slot);
            } catch (error) {
              stop = { at: j, error };
              throw STOP;
            }
            processed++;
            const beat = this.host.beat();
            if (beat !== undefined) await beat;
          }
          reached = b;
          return keys.length;
        },
        this.topic,
      );
    } catch (error) {
      if (error !== STOP || stop === undefined || isTransient(stop.error)) {
        const cause = error === STOP ? stop?.error : error;
        throw this.host.failure(this.topic, this.partition, this.slots[a].message.offset, cause);
      }
      // Messages before the failed one commit in a fresh transaction; the failed one is redelivered.
      const { at, error: cause } = stop;
      if (at > a) {
        const done = await this.chunk(a, at);
        if (done < at) return done;
      }
      throw this.host.failure(this.topic, this.partition, this.slots[at].message.offset, cause);
    }
    service.countBatch(this.topic, processed, duplicates);
    this.offsets.resolve(this.slots[reached - 1].message.offset);
    return reached;
  }
}

/** Whether a handler's error is a transient database failure (found along its `cause` chain). */
export function isTransient(error: unknown): boolean {
  let current = error as { code?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const code = current.code;
    if (typeof code === 'string' && (TRANSIENT.has(code) || code.startsWith('08'))) return true;
    current = current.cause as typeof current;
  }
  return false;
}
