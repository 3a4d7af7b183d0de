import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { DedupRedisOptions } from '../interfaces/dedup-options.interface';
import type { ClaimResult, DedupKey } from '../interfaces/dedup-key.interface';
import { DedupStore } from './dedup.store';
import { CLAIM, COMMIT, DONE, RELEASE, RENEW } from './redis.scripts';

interface DedupCommands {
  dedupClaim(key: string | Buffer, token: string, leaseTtl: number): Promise<string | null>;
  dedupCommit(key: string | Buffer, token: string, ttl: number, done: string): Promise<number>;
  dedupRelease(key: string | Buffer, token: string): Promise<number>;
  dedupRenew(key: string | Buffer, token: string, leaseTtl: number): Promise<number>;
}

/**
 * Fail fast when Redis is down instead of queueing commands until it returns: a consumer must not
 * hang on its partition; `onStoreError` decides what happens instead.
 */
const FAIL_FAST: RedisOptions = {
  maxRetriesPerRequest: 1,
  commandTimeout: 1_000,
  connectTimeout: 2_000,
  enableOfflineQueue: false,
  enableAutoPipelining: true,
  retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2_000),
};

/**
 * Shared store for many replicas: an atomic claim (`SET key token NX PX lease`), commit and release
 * by compare-and-set on the owner token (Lua), a done record living for the TTL. A crashed
 * consumer's short lease expires and the redelivery is processed. Commands issued in the same tick
 * are pipelined (ioredis auto-pipelining).
 */
export class RedisDedupStore extends DedupStore {
  readonly name = 'redis';
  private readonly logger = new Logger(RedisDedupStore.name);
  private readonly redis: Redis & DedupCommands;
  private readonly owned: boolean;
  private readonly prefix: string;

  constructor(options: DedupRedisOptions = {}) {
    super();
    this.prefix = options.keyPrefix ?? 'kafka-dedup:';
    this.owned = options.client === undefined;
    const client =
      options.client ??
      new Redis(options.url ?? 'redis://127.0.0.1:6379', { ...FAIL_FAST, ...options.options });
    if (this.owned) {
      client.on('error', (error: Error) => this.logger.warn(`Redis: ${error.message}`));
    }
    client.defineCommand('dedupClaim', { numberOfKeys: 1, lua: CLAIM });
    client.defineCommand('dedupCommit', { numberOfKeys: 1, lua: COMMIT });
    client.defineCommand('dedupRelease', { numberOfKeys: 1, lua: RELEASE });
    client.defineCommand('dedupRenew', { numberOfKeys: 1, lua: RENEW });
    this.redis = client as Redis & DedupCommands;
  }

  /** The ioredis client (for health checks). */
  get client(): Redis {
    return this.redis;
  }

  async claim(key: DedupKey, leaseTtl: number): Promise<ClaimResult> {
    const token = randomBytes(12).toString('hex');
    const current = await this.redis.dedupClaim(this.redisKey(key), token, leaseTtl);
    if (current === null) return { status: 'claimed', token };
    return current === DONE ? { status: 'duplicate' } : { status: 'in-flight' };
  }

  async commit(key: DedupKey, token: string, ttl: number): Promise<void> {
    await this.redis.dedupCommit(this.redisKey(key), token, ttl, DONE);
  }

  async release(key: DedupKey, token: string): Promise<void> {
    await this.redis.dedupRelease(this.redisKey(key), token);
  }

  async renew(
    claims: ReadonlyArray<{ key: DedupKey; token: string }>,
    leaseTtl: number,
  ): Promise<void> {
    await Promise.all(
      claims.map(({ key, token }) => this.redis.dedupRenew(this.redisKey(key), token, leaseTtl)),
    );
  }

  async markIfAbsent(key: DedupKey, ttl: number): Promise<boolean> {
    return (await this.redis.set(this.redisKey(key), DONE, 'PX', ttl, 'NX')) === 'OK';
  }

  /** Counts this prefix's keys with SCAN: O(keys), for diagnostics, not for hot paths. */
  async size(): Promise<number> {
    let cursor = '0';
    let count = 0;
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 1000);
      cursor = next;
      count += keys.length;
    } while (cursor !== '0');
    return count;
  }

  // No cleanup(): Redis expires the records itself (PX on every key).

  /** Quits the client the store created; an injected client is left to its owner. */
  override async close(): Promise<void> {
    if (!this.owned) return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  private redisKey(key: DedupKey): string | Buffer {
    if (typeof key.id === 'string') return `${this.prefix}${key.scope}:${key.id}`;
    return Buffer.concat([Buffer.from(`${this.prefix}${key.scope}:`), key.id]);
  }
}
