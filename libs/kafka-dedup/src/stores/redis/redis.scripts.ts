import type { RedisLike } from './redis-client';

/**
 * Lua scripts of the Redis store. Values: an owner token `<owner>:<n>` (in flight) or {@link DONE}
 * (processed). Every script touches only its KEYS, so on Redis Cluster the store runs one script
 * per hash slot.
 * @internal
 */

/** Value of a done record; tokens always contain ':', so they never equal it. */
export const DONE = 'done';

/** KEYS[1]; ARGV: token, leaseTtl → nil when claimed, else the current value (DONE or a token). */
export const CLAIM = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return nil end
return redis.call('GET', KEYS[1])`;

/**
 * KEYS[1]; ARGV: token, ttl, done → 1 committed, 0 another owner holds it (our lease expired and it
 * was claimed again: that owner commits). An absent key (our lease expired, nobody claimed) is
 * marked done: the event was processed.
 */
export const COMMIT = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] or v == false then redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2]) return 1 end
return 0`;

/** KEYS[1]; ARGV: token → 1 released, 0 not the owner. */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * KEYS[1]; ARGV: expected token, new token, leaseTtl → 1 when the claim still held `expected` and
 * now belongs to the new token (its owner is gone), else 0.
 */
export const TAKEOVER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end
return 0`;

/**
 * KEYS[1..n]; ARGV: leaseTtl, token1..tokenN → per key 0 when claimed, else its current value. A
 * key repeated in KEYS finds its own earlier token: in flight.
 */
export const CLAIM_MANY = `
local out = {}
for i = 1, #KEYS do
  if redis.call('SET', KEYS[i], ARGV[i + 1], 'NX', 'PX', ARGV[1]) then out[i] = 0
  else out[i] = redis.call('GET', KEYS[i]) or 0 end
end
return out`;

/** KEYS[1..n]; ARGV: ttl, done, token1..tokenN → how many were committed (see COMMIT). */
export const COMMIT_MANY = `
local n = 0
for i = 1, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v == ARGV[i + 2] or v == false then redis.call('SET', KEYS[i], ARGV[2], 'PX', ARGV[1]) n = n + 1 end
end
return n`;

/** KEYS[1..n]; ARGV: token1..tokenN → how many were released. */
export const RELEASE_MANY = `
local n = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[i] then redis.call('DEL', KEYS[i]) n = n + 1 end
end
return n`;

/** KEYS[1..n]; ARGV: leaseTtl, token1..tokenN → how many were renewed. */
export const RENEW_MANY = `
local n = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[i + 1] then redis.call('PEXPIRE', KEYS[i], ARGV[1]) n = n + 1 end
end
return n`;

/**
 * Commits queued since the last command, then a claim, in one round trip. KEYS[1]: the key to
 * claim; KEYS[2..n]: keys to commit. ARGV: token, leaseTtl, ttl, done, then one token per commit
 * key → as CLAIM. Standalone Redis only (the keys may live in different slots).
 */
export const COMMIT_THEN_CLAIM = `
for i = 2, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v == ARGV[i + 3] or v == false then redis.call('SET', KEYS[i], ARGV[4], 'PX', ARGV[3]) end
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return nil end
return redis.call('GET', KEYS[1])`;

/** A Redis key: the prefix, scope and id as text, or as bytes for a binary id. @internal */
export type RedisKey = string | Buffer;

/** The store's scripts as ioredis commands (`defineCommand`). @internal */
export interface DedupCommands {
  dedupClaim(key: RedisKey, token: string, leaseTtl: number): Promise<string | null>;
  dedupCommit(key: RedisKey, token: string, ttl: number, done: string): Promise<number>;
  dedupRelease(key: RedisKey, token: string): Promise<number>;
  dedupTakeover(key: RedisKey, held: string, token: string, leaseTtl: number): Promise<number>;
  /** `(numberOfKeys, ...keys, ...args)` */
  /** `(numberOfKeys, claimKey, ...commitKeys, token, leaseTtl, ttl, done, ...commitTokens)` */
  dedupCommitThenClaim(...args: Array<RedisKey | number>): Promise<string | null>;
  dedupClaimMany(...args: Array<RedisKey | number>): Promise<Array<string | number>>;
  dedupCommitMany(...args: Array<RedisKey | number>): Promise<number>;
  dedupReleaseMany(...args: Array<RedisKey | number>): Promise<number>;
  dedupRenewMany(...args: Array<RedisKey | number>): Promise<number>;
}

/** Defines the scripts on `client` as the {@link DedupCommands} (EVALSHA, EVAL on a miss). @internal */
export function defineDedupCommands(client: RedisLike): RedisLike & DedupCommands {
  client.defineCommand('dedupClaim', { numberOfKeys: 1, lua: CLAIM });
  client.defineCommand('dedupCommit', { numberOfKeys: 1, lua: COMMIT });
  client.defineCommand('dedupRelease', { numberOfKeys: 1, lua: RELEASE });
  client.defineCommand('dedupTakeover', { numberOfKeys: 1, lua: TAKEOVER });
  client.defineCommand('dedupCommitThenClaim', { lua: COMMIT_THEN_CLAIM });
  client.defineCommand('dedupClaimMany', { lua: CLAIM_MANY });
  client.defineCommand('dedupCommitMany', { lua: COMMIT_MANY });
  client.defineCommand('dedupReleaseMany', { lua: RELEASE_MANY });
  client.defineCommand('dedupRenewMany', { lua: RENEW_MANY });
  return client as RedisLike & DedupCommands;
}
