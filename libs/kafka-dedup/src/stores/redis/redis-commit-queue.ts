import type { DedupKey } from '../../interfaces/dedup-key.interface';
import type { RedisIdArgs } from './redis-id-args';
import type { DedupCommands, RedisKey } from './redis.scripts';

/**
 * The commits a standalone Redis store sends without waiting: queued, they ride in the same script
 * as the next claim ({@link thenClaim}: one round trip per message), or are sent together at the
 * end of this event-loop turn when no claim comes first ({@link flush}). Redis applies them before
 * any later claim from this process. A failure goes to `onFailed` with the number of commits lost.
 * @internal
 */
export class RedisCommitQueue {
  /** Queued commits: key, redis key, token, key, redis key, token… (all with `ttl`). */
  private pending: Array<DedupKey | RedisKey> = [];
  private ttl = 0;
  private scheduled = false;
  /** The bucket of the last {@link thenClaim} (set before it awaits: read it right after the call). */
  bucket = 0;

  constructor(
    private readonly redis: DedupCommands,
    private readonly args: RedisIdArgs,
    private readonly onFailed: (error: unknown, commits: number) => void,
  ) {}

  get empty(): boolean {
    return this.pending.length === 0;
  }

  add(key: DedupKey, redisKey: RedisKey, token: string, ttl: number): void {
    if (this.pending.length > 0 && ttl !== this.ttl) this.flush();
    this.pending.push(key, redisKey, token);
    this.ttl = ttl;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Sends the queued commits (no claim came to carry them). */
  readonly flush = (): void => {
    this.scheduled = false;
    const pending = this.pending;
    if (pending.length === 0) return;
    this.pending = [];
    const n = pending.length / 3;
    const args: Array<RedisKey | number> = [n];
    for (let i = 1; i < pending.length; i += 3) args.push(pending[i] as RedisKey);
    this.args.head(args, pending[1] as RedisKey);
    args.push(this.ttl);
    for (let i = 0; i < pending.length; i += 3) {
      this.args.commitId(args, pending[i] as DedupKey, pending[i + 2] as string);
    }
    this.redis.dedupCommitMany(...args).catch((error: unknown) => this.onFailed(error, n));
  };

  /** One script: the queued commits, then the claim of `redisKey`. */
  async thenClaim(
    key: DedupKey,
    redisKey: RedisKey,
    token: string,
    leaseTtl: number,
  ): Promise<string | number | null> {
    const pending = this.pending;
    this.pending = [];
    const n = pending.length / 3;
    const args: Array<RedisKey | number> = [n + 1, redisKey];
    for (let i = 1; i < pending.length; i += 3) args.push(pending[i] as RedisKey);
    this.bucket = this.args.head(args, redisKey);
    args.push(leaseTtl, this.ttl);
    this.args.claimId(args, key, token, leaseTtl);
    for (let i = 0; i < pending.length; i += 3) {
      this.args.commitId(args, pending[i] as DedupKey, pending[i + 2] as string);
    }
    try {
      return await this.redis.dedupCommitThenClaim(...args);
    } catch (error) {
      this.onFailed(error, n);
      throw error;
    }
  }
}
