import type { RedisLike } from './redis-client';
import type { LayoutScripts } from './layout-v2.scripts';

/**
 * Lua scripts of the Redis store that act on the in-flight claim alone (release, takeover, renew);
 * the claim and commit scripts depend on the layout (`layout-v2.scripts.ts`). A claim key holds an
 * owner token `<owner>:<n>` (in flight) or {@link DONE} (processed, `v1` layout). Every script
 * touches only its KEYS, or keys in their hash slot, so on Redis Cluster the store runs one script
 * per hash slot.
 * @internal
 */

/** Value of a done record; tokens always contain ':', so they never equal it. */
export const DONE = 'done';

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

/** A Redis key: the prefix, scope and id as text, or as bytes for a binary id. @internal */
export type RedisKey = string | Buffer;

/**
 * The store's scripts as ioredis commands (`defineCommand`); the arguments of the claim and commit
 * scripts depend on the layout (`layout-v2.scripts.ts`, built by `RedisIdArgs`). A claim answers
 * null (claimed), a number (done in a `v2` group: the ms since its bucket began), {@link DONE} or
 * the token in flight. @internal
 */
export interface DedupCommands {
  /** `(key, ...head, leaseTtl, ...idArgs)` */
  dedupClaim(...args: Array<RedisKey | number>): Promise<string | number | null>;
  /** `(key, ...head, ttl, ...idArgs)` */
  dedupCommit(...args: Array<RedisKey | number>): Promise<number>;
  /** `(key, ...head, ttl, ...markArgs)` */
  dedupMark(...args: Array<RedisKey | number>): Promise<number>;
  dedupRelease(key: RedisKey, token: string): Promise<number>;
  dedupTakeover(key: RedisKey, held: string, token: string, leaseTtl: number): Promise<number>;
  /** `(numberOfKeys, claimKey, ...commitKeys, ...head, leaseTtl, ttl, ...claimIdArgs, ...commitIdArgs)` */
  dedupCommitThenClaim(...args: Array<RedisKey | number>): Promise<string | number | null>;
  /** `(numberOfKeys, ...keys, ...head, leaseTtl, ...idArgs)` */
  dedupClaimMany(...args: Array<RedisKey | number>): Promise<Array<string | number>>;
  /** `(numberOfKeys, ...keys, ...head, ttl, ...idArgs)` */
  dedupCommitMany(...args: Array<RedisKey | number>): Promise<number>;
  /** `(numberOfKeys, ...keys, ...tokens)` */
  dedupReleaseMany(...args: Array<RedisKey | number>): Promise<number>;
  /** `(numberOfKeys, ...keys, leaseTtl, ...tokens)` */
  dedupRenewMany(...args: Array<RedisKey | number>): Promise<number>;
}

/**
 * Defines the scripts on `client` as the {@link DedupCommands} (EVALSHA, EVAL on a miss), with the
 * claim and commit scripts of the store's layout. @internal
 */
export function defineDedupCommands(
  client: RedisLike,
  layout: LayoutScripts,
): RedisLike & DedupCommands {
  client.defineCommand('dedupClaim', { numberOfKeys: 1, lua: layout.claim });
  client.defineCommand('dedupCommit', { numberOfKeys: 1, lua: layout.commit });
  client.defineCommand('dedupMark', { numberOfKeys: 1, lua: layout.mark });
  client.defineCommand('dedupRelease', { numberOfKeys: 1, lua: RELEASE });
  client.defineCommand('dedupTakeover', { numberOfKeys: 1, lua: TAKEOVER });
  client.defineCommand('dedupCommitThenClaim', { lua: layout.commitThenClaim });
  client.defineCommand('dedupClaimMany', { lua: layout.claimMany });
  client.defineCommand('dedupCommitMany', { lua: layout.commitMany });
  client.defineCommand('dedupReleaseMany', { lua: RELEASE_MANY });
  client.defineCommand('dedupRenewMany', { lua: RENEW_MANY });
  return client as RedisLike & DedupCommands;
}
