import type { RedisLike } from './redis-client';
import { FREE_VALUE, oursLua, type LayoutScripts } from './layout-v2.scripts';

/**
 * Lua scripts of the Redis store that act on the in-flight claim alone (release, renew); the claim,
 * commit and takeover scripts depend on the layout (`layout-v2.scripts.ts`). A claim key holds an
 * owner token `<owner>:<n>` (in flight; `<owner>:<n>/<lease deadline>` for `v2`), {@link DONE}
 * (processed, `v1` layout) or `free` (a released `v2` claim). Every script
 * touches only its KEYS, or keys in their hash slot, so on Redis Cluster the store runs one script
 * per hash slot.
 * @internal
 */

/** Value of a done record; tokens always contain ':', so they never equal it. */
export const DONE = 'done';

/**
 * Lua releasing key `k` held by token `t` (counted in `n`): a bare token's key is deleted; a
 * `v2` claim's key turns into {@link FREE_VALUE}, keeping its `PX` (its member stays in its group and
 * would read as done without the key; the next claim takes it).
 */
function releaseLua(k: string, t: string): string {
  return `
local v = redis.call('GET', ${k})
if v == ${t} then redis.call('DEL', ${k}) n = n + 1
elseif ${oursLua('v', t)} then redis.call('SET', ${k}, '${FREE_VALUE}', 'KEEPTTL') n = n + 1 end`;
}

/** KEYS[1]; ARGV: token → 1 released, 0 not the owner. */
export const RELEASE = `local n = 0${releaseLua('KEYS[1]', 'ARGV[1]')}
return n`;

/** KEYS[1..n]; ARGV: token1..tokenN → how many were released. */
export const RELEASE_MANY = `
local n = 0
for i = 1, #KEYS do${releaseLua('KEYS[i]', 'ARGV[i]')}
end
return n`;

/**
 * KEYS[1..n]; ARGV: leaseTtl, `/<deadline>`, life, token1..tokenN → how many were renewed: a bare
 * token's key gets `PX leaseTtl` again, a `v2` claim a new lease deadline and `PX life` (a group's
 * longest life: a handler that runs for longer than its key had left keeps it).
 */
export const RENEW_MANY = `
local n = 0
for i = 1, #KEYS do
  local v, t = redis.call('GET', KEYS[i]), ARGV[i + 3]
  if v == t then redis.call('PEXPIRE', KEYS[i], ARGV[1]) n = n + 1
  elseif ${oursLua('v', 't')} then redis.call('SET', KEYS[i], t .. ARGV[2], 'PX', ARGV[3]) n = n + 1 end
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
  /** `(key, [...head], held, token, leaseTtl, deadline, [...idArgs])`: see `RedisIdArgs.takeover`. */
  dedupTakeover(...args: Array<RedisKey | number>): Promise<number>;
  /** `(numberOfKeys, claimKey, ...commitKeys, ...head, leaseTtl, ttl, ...claimIdArgs, ...commitIdArgs)` */
  dedupCommitThenClaim(...args: Array<RedisKey | number>): Promise<string | number | null>;
  /** `(numberOfKeys, ...keys, ...head, leaseTtl, ...idArgs)` */
  dedupClaimMany(...args: Array<RedisKey | number>): Promise<Array<string | number>>;
  /** `(numberOfKeys, ...keys, ...head, ttl, ...idArgs)` */
  dedupCommitMany(...args: Array<RedisKey | number>): Promise<number>;
  /** `(numberOfKeys, ...keys, ...tokens)` */
  dedupReleaseMany(...args: Array<RedisKey | number>): Promise<number>;
  /** `(numberOfKeys, ...keys, leaseTtl, deadline, life, ...tokens)` */
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
  client.defineCommand('dedupTakeover', { numberOfKeys: 1, lua: layout.takeover });
  client.defineCommand('dedupCommitThenClaim', { lua: layout.commitThenClaim });
  client.defineCommand('dedupClaimMany', { lua: layout.claimMany });
  client.defineCommand('dedupCommitMany', { lua: layout.commitMany });
  client.defineCommand('dedupReleaseMany', { lua: RELEASE_MANY });
  client.defineCommand('dedupRenewMany', { lua: RENEW_MANY });
  return client as RedisLike & DedupCommands;
}
