import { randomBytes } from 'node:crypto';
import type { RedisLike } from './redis-client';

/**
 * This process's liveness record in Redis: `<prefix>_owner:<id>` set for `ttl` ms and refreshed
 * every `ttl / 3` (one unref'd timer per store). Claim tokens are `<id>:<n>`, so a consumer that
 * finds an event in flight can tell whether its owner is still alive: when the owner's record has
 * expired (the process died or lost Redis for `ttl`), the claim may be taken over at once instead
 * of waiting for the whole lease. @internal
 */
export class OwnerLiveness {
  /** Process-unique owner id, the prefix of every token this store issues. */
  readonly id = randomBytes(8).toString('hex');
  private seq = 0;
  private timer?: NodeJS.Timeout;
  private readonly onReady = (): void => this.beat();

  constructor(
    private readonly client: RedisLike,
    private readonly prefix: string,
    readonly ttl: number,
  ) {}

  /** The last token issued (`<id>:0` before the first). */
  get lastToken(): string {
    return `${this.id}:${this.seq.toString(36)}`;
  }

  /** A new claim token: the owner id and a counter (no random bytes per claim). */
  token(): string {
    return `${this.id}:${(++this.seq).toString(36)}`;
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.beat();
    this.timer = setInterval(() => this.beat(), Math.max(1, Math.floor(this.ttl / 3)));
    this.timer.unref();
    // After a reconnect (or a Redis restart that lost the record) say so at once.
    this.client.on('ready', this.onReady);
  }

  /**
   * Whether the owner of `token` is alive: this process, or a record that has not expired. Tokens
   * without an owner (from older versions) count as alive: only their lease ends them.
   */
  async isAlive(token: string): Promise<boolean> {
    const at = token.lastIndexOf(':');
    if (at <= 0) return true;
    const owner = token.slice(0, at);
    if (owner === this.id) return true;
    return (await this.client.exists(this.key(owner))) === 1;
  }

  /** Stops refreshing and deletes the record: claims still held are free to take over. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.client.off('ready', this.onReady);
    try {
      if (this.client.status === 'ready') await this.client.del(this.key(this.id));
    } catch {
      // The record expires by itself.
    }
  }

  private beat(): void {
    if (this.client.status !== 'ready') return;
    this.client.set(this.key(this.id), '1', 'PX', this.ttl).catch(() => undefined);
  }

  private key(owner: string): string {
    return `${this.prefix}_owner:${owner}`;
  }
}
