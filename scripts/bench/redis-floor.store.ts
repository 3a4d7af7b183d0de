/**
 * Cost floors of deduplication on Redis for a batch-mode consumer (bench:consumer's opt-in cases
 * `redis-batch-floor-ship`, `redis-batch-floor-setnx` and `redis-batch-floor-variadic`). NOT stores
 * a user can run: they answer every id "new" (the first two remember nothing a copy could be checked
 * against). Each does the least a protocol of its kind does per batch chunk, through the same
 * `DedupKafkaServer` path, so `floor ÷ batch-none` bounds `redisBatchOverBatchNone` from above for
 * the protocols of that kind (`ship`: any that sends each id's key to Redis):
 *
 * - `ship`: the chunk's keys (prefix + scope + id, as the real store builds them) go to Redis in one
 *   `EVALSHA` whose script only counts them, and come back as one integer. No per-id Redis command:
 *   the cost of getting each id to Redis and back at all.
 * - `set-nx`: the least a claim and a commit are: one `SET key token NX PX lease` per id at claim
 *   (one script per chunk) and one `SET key done PX ttl` per id at commit (one script per chunk) —
 *   the real store's `v1` without its `GET`s, its owner liveness and its lease renewal.
 * - `variadic`: claims and commits of a chunk with a few variadic commands instead of a command per
 *   id: one set of done ids and one hash of in-flight ids for everything (`SMISMEMBER` + `HMGET`,
 *   then one `HSET` of the new ids at claim; `SADD` + `HDEL` at commit). Exact for one process, but
 *   no expiry per id, no cluster spread and no compact encoding: a bound for such protocols, not one.
 */
import { Redis } from 'ioredis';
import {
  DedupStore,
  type ClaimResult,
  type DedupKey,
  type DedupTokenedKey,
} from '@nest-resilience/kafka-dedup';

/** Which lower bound: see the file header. */
export type RedisFloorMode = 'ship' | 'set-nx' | 'variadic';

const SHIP = 'return #KEYS';
const CLAIM = `
local out = {}
for i = 1, #KEYS do out[i] = redis.call('SET', KEYS[i], ARGV[1], 'NX', 'PX', ARGV[2]) and 0 or 1 end
return out`;
// KEYS[1] the done set, KEYS[2] the in-flight hash; ARGV: token, ids.
const CLAIM_VARIADIC = `
local ids = {unpack(ARGV, 2)}
local done = redis.call('SMISMEMBER', KEYS[1], unpack(ids))
local held = redis.call('HMGET', KEYS[2], unpack(ids))
local out, new = {}, {}
for i = 1, #ids do
  if done[i] == 1 or held[i] then out[i] = 1
  else out[i] = 0 new[#new + 1] = ids[i] new[#new + 1] = ARGV[1] end
end
if #new > 0 then redis.call('HSET', KEYS[2], unpack(new)) end
return out`;
const COMMIT_VARIADIC = `
redis.call('SADD', KEYS[1], unpack(ARGV))
redis.call('HDEL', KEYS[2], unpack(ARGV))
return #ARGV`;
const COMMIT = `
for i = 1, #KEYS do redis.call('SET', KEYS[i], 'done', 'PX', ARGV[1]) end
return #KEYS`;

interface FloorCommands {
  floorShip(n: number, ...keys: string[]): Promise<number>;
  floorClaim(...args: Array<string | number>): Promise<number[]>;
  floorCommit(...args: Array<string | number>): Promise<number>;
  floorClaimVariadic(...args: Array<string | number>): Promise<number[]>;
  floorCommitVariadic(...args: Array<string | number>): Promise<number>;
}

/** See the file header: a bench instrument, not a store. */
export class RedisFloorStore extends DedupStore {
  readonly name = 'redis-floor';
  private readonly redis: Redis & FloorCommands;
  private seq = 0;
  /** `variadic`: the done set and the in-flight hash. */
  private readonly sets: [string, string];

  constructor(
    url: string,
    private readonly prefix: string,
    private readonly mode: RedisFloorMode,
  ) {
    super();
    this.sets = [`${prefix}done`, `${prefix}held`];
    const redis = new Redis(url);
    redis.defineCommand('floorShip', { lua: SHIP });
    redis.defineCommand('floorClaim', { lua: CLAIM });
    redis.defineCommand('floorCommit', { lua: COMMIT });
    redis.defineCommand('floorClaimVariadic', { numberOfKeys: 2, lua: CLAIM_VARIADIC });
    redis.defineCommand('floorCommitVariadic', { numberOfKeys: 2, lua: COMMIT_VARIADIC });
    this.redis = redis as Redis & FloorCommands;
  }

  private key(key: DedupKey): string {
    return `${this.prefix}${key.scope}:${key.id}`;
  }

  // The per-message path (the batch server's first message of a topic): a plain SET NX.
  async claim(key: DedupKey, leaseTtl: number): Promise<ClaimResult> {
    const token = `floor:${++this.seq}`;
    const set = await this.redis.set(this.key(key), token, 'PX', leaseTtl, 'NX');
    return set === null ? { status: 'duplicate' } : { status: 'claimed', token };
  }

  commit(key: DedupKey, _token: string, ttl: number): void {
    if (this.mode === 'set-nx') void this.redis.set(this.key(key), 'done', 'PX', ttl);
  }

  release(): void {}
  renew(): void {}
  markIfAbsent(): boolean {
    return true;
  }
  size(): number {
    return 0;
  }

  override async claimMany(keys: readonly DedupKey[], leaseTtl: number): Promise<ClaimResult[]> {
    const token = `floor:${++this.seq}`;
    const claimed: ClaimResult = { status: 'claimed', token };
    if (this.mode === 'variadic') {
      const ids = keys.map((key) => `${key.scope}:${key.id}`);
      const answers = await this.redis.floorClaimVariadic(...this.sets, token, ...ids);
      return answers.map((a) => (a === 0 ? claimed : { status: 'duplicate' }));
    }
    const redisKeys = keys.map((key) => this.key(key));
    if (this.mode === 'ship') {
      await this.redis.floorShip(redisKeys.length, ...redisKeys);
      return keys.map(() => claimed);
    }
    const answers = await this.redis.floorClaim(redisKeys.length, ...redisKeys, token, leaseTtl);
    return answers.map((a) => (a === 0 ? claimed : { status: 'duplicate' }));
  }

  override async commitMany(items: readonly DedupTokenedKey[], ttl: number): Promise<void> {
    if (this.mode === 'ship' || items.length === 0) return;
    if (this.mode === 'variadic') {
      await this.redis.floorCommitVariadic(
        ...this.sets,
        ...items.map((item) => `${item.key.scope}:${item.key.id}`),
      );
      return;
    }
    const redisKeys = items.map((item) => this.key(item.key));
    await this.redis.floorCommit(redisKeys.length, ...redisKeys, ttl);
  }

  override releaseMany(): void {}

  override async close(): Promise<void> {
    await this.redis.quit();
  }
}
