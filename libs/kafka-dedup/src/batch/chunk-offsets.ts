import type { EachBatchPayload } from 'kafkajs';

/**
 * Offsets of one partition's batch, resolved as its chunks complete and committed to Kafka at
 * most once per `commitEveryMs` while the batch runs (kafkajs itself commits only when a fetched
 * batch ends: a crash mid-batch would re-read all of it). Which offset was committed last is kept
 * per partition across batches by the server (`lastCommits`). A commit does not hold the handlers
 * up: it goes out and the batch goes on; the next commit waits for it, and so does the batch's end
 * ({@link settle}), before kafkajs commits the batch's last offsets. @internal
 */
export class ChunkOffsets {
  private resolved?: string;
  /** The commit on its way to the broker, if any. */
  private pending?: Promise<void>;
  private failed?: { error: unknown };

  constructor(
    private readonly payload: Pick<EachBatchPayload, 'resolveOffset' | 'commitOffsetsIfNecessary'>,
    private readonly topic: string,
    private readonly partition: number,
    /** `undefined`: never commit mid-batch (`autoCommit: false`). */
    private readonly commitEveryMs: number | undefined,
    private readonly lastCommits: Map<string, number>,
  ) {}

  /** Marks `offset` (and every offset before it) processed. */
  resolve(offset: string): void {
    if (offset === this.resolved) return;
    this.payload.resolveOffset(offset);
    this.resolved = offset;
  }

  /**
   * Starts a commit of the resolved offset when the last commit of this partition is
   * `commitEveryMs` old (not while one is on its way). Throws what an earlier commit failed with.
   */
  async commitIfDue(): Promise<void> {
    this.rethrow();
    if (this.pending !== undefined) return;
    const every = this.commitEveryMs;
    if (every === undefined || this.resolved === undefined) return;
    const slot = `${this.topic}\u0000${this.partition}`;
    const now = Date.now();
    const last = this.lastCommits.get(slot);
    if (last === undefined) {
      // The first chunk of a partition starts the clock: short-lived batches commit at their end.
      this.lastCommits.set(slot, now);
      return;
    }
    if (now - last < every) return;
    this.lastCommits.set(slot, now);
    const next = (BigInt(this.resolved) + 1n).toString();
    this.pending = this.payload
      .commitOffsetsIfNecessary({
        topics: [{ topic: this.topic, partitions: [{ partition: this.partition, offset: next }] }],
      })
      .then(
        () => undefined,
        (error: unknown) => void (this.failed = { error }),
      )
      .finally(() => (this.pending = undefined));
  }

  /** Waits for the commit on its way; throws what it (or an earlier one) failed with. */
  async settle(): Promise<void> {
    await this.pending;
    this.rethrow();
  }

  private rethrow(): void {
    const failed = this.failed;
    if (failed === undefined) return;
    this.failed = undefined;
    throw failed.error;
  }
}
