import type { EachBatchPayload } from 'kafkajs';

/**
 * Offsets of one partition's batch, resolved as its chunks complete and committed to Kafka at
 * most once per `commitEveryMs` while the batch runs (kafkajs itself commits only when a fetched
 * batch ends: a crash mid-batch would re-read all of it). Which offset was committed last is kept
 * per partition across batches by the server (`lastCommits`). @internal
 */
export class ChunkOffsets {
  private resolved?: string;

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

  /** Commits the resolved offset when the last commit of this partition is `commitEveryMs` old. */
  async commitIfDue(): Promise<void> {
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
    await this.payload.commitOffsetsIfNecessary({
      topics: [{ topic: this.topic, partitions: [{ partition: this.partition, offset: next }] }],
    });
  }
}
