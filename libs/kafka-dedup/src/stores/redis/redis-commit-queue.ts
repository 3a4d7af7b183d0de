import type { GroupPrefixes } from './redis-layout';
import type { DedupCommands, RedisKey } from './redis.scripts';

/**
 * The commits a standalone Redis store sends without waiting: queued, they ride in the same script
 * as the next claim ({@link thenClaim}: one round trip per message), or are sent together at the
 * end of this event-loop turn when no claim comes first ({@link flush}). Redis applies them before
 * any later claim from this process. A failure goes to `onFailed` with the number of commits lost.
 * @internal
 */
export class RedisCommitQueue {
  /** Queued commits: key, token, key, token… (all with `ttl`). */
  private pending: RedisKey[] = [];
  private ttl = 0;
  private scheduled = false;

  constructor(
    private readonly redis: DedupCommands,
    private readonly groups: GroupPrefixes,
    private readonly onFailed: (error: unknown, commits: number) => void,
  ) {}

  get empty(): boolean {
    return this.pending.length === 0;
  }

  add(redisKey: RedisKey, token: string, ttl: number): void {
    if (this.pending.length > 0 && ttl !== this.ttl) this.flush();
    this.pending.push(redisKey, token);
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
    const n = pending.length / 2;
    const keys: RedisKey[] = [];
    const tokens: RedisKey[] = [];
    for (let i = 0; i < pending.length; i += 2) {
      keys.push(pending[i]);
      tokens.push(pending[i + 1]);
    }
    this.redis
      .dedupCommitMany(n, ...keys, this.ttl, this.groups.of(keys[0]), ...tokens)
      .catch((error: unknown) => this.onFailed(error, n));
  };

  /** One script: the queued commits, then the claim of `redisKey`. */
  async thenClaim(
    redisKey: RedisKey,
    token: string,
    leaseTtl: number,
  ): Promise<string | number | null> {
    const pending = this.pending;
    this.pending = [];
    const n = pending.length / 2;
    const args: Array<RedisKey | number> = [n + 1, redisKey];
    for (let i = 0; i < pending.length; i += 2) args.push(pending[i]);
    args.push(token, leaseTtl, this.ttl, this.groups.of(redisKey));
    for (let i = 1; i < pending.length; i += 2) args.push(pending[i]);
    try {
      return await this.redis.dedupCommitThenClaim(...args);
    } catch (error) {
      this.onFailed(error, n);
      throw error;
    }
  }
}
