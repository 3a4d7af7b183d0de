import type { RedisLayout } from './redis-options';

/**
 * Lua of the claim and commit scripts of each layout. The in-flight claim is the same exact key in
 * all (`<prefix><scope>:<id>` holding the owner token, `PX leaseTtl`): a claim taken by a process of
 * any layout (or of a version before layouts) excludes the others. Done records:
 *
 * - `v1`: the claim key itself turns into `done` for the TTL (~200 B per id). These are the
 *   scripts of the versions before layouts, unchanged: a `v1` claim is one `SET NX`.
 * - `v2`: the claim key is deleted and the id's 64-bit fingerprint (computed in Node, see
 *   `redis-fingerprint.ts`: a shard number and a 49-bit integer member) joins a group: a Redis set
 *   `<groupPrefix><bucket % 4>:<shard>` of integers (an intset: 8 B per id), one per (time bucket,
 *   shard), expiring as a whole one window after its bucket ends. A bucket is at least the window
 *   long, so a claim looks at 2 groups (the newest first, stopping at a hit), then `SET NX`.
 *   A `v1` done record answers that `SET NX` as before: `v2` reads the records of `v1` at no cost.
 * - `dual`: writes both records (the `v1` key and the `v2` group member) and reads both, for the
 *   rolling upgrade from a version before layouts (README "Redis memory and layouts").
 *
 * The group's expiry (`PEXPIREAT`) is sent only when the Node side asks for it (the first commit of
 * this process to a group in a bucket, and again every minute: `redis-group-expiry.ts`) or when the
 * bucket Node reckoned differs from Redis' own (`TIME`): a commit is a `GETDEL` and a `SADD`.
 *
 * Returns of a claim: nil when claimed; a number (>= 1) when the id is done in a group: the ms since
 * the start of that group's bucket (Redis' clock), an upper bound of the original's age; `done` for
 * a `v1` record; else the token of the claim in flight.
 * @internal
 */
export interface LayoutScriptParams {
  layout: RedisLayout;
  /** Bucket length in ms (>= the window). */
  bucketMs: number;
  /** Longest TTL the store is given, in ms: how long a group lives after its bucket. */
  windowMs: number;
}

/**
 * The scripts a layout defines (the others are shared: see `redis.scripts.ts`). ARGV: a head (`v2`,
 * `dual`: the group prefix `gp`, and for scripts that commit `nb`, the bucket Node reckons now),
 * the scalars, then the per-id arguments: `token` (`v1`) or `token, shard, member`. A shard
 * starting with `e` asks for the group's expiry to be (re)set.
 * @internal
 */
export interface LayoutScripts {
  /** KEYS[1]; ARGV: [gp], leaseTtl, id args. */
  claim: string;
  /** KEYS[1]; ARGV: [gp, nb], ttl, id args → 1 committed, 0 another owner holds it. */
  commit: string;
  /** KEYS[1..n]; ARGV: [gp], leaseTtl, id args x n → per key 0 when claimed, else as a claim. */
  claimMany: string;
  /** KEYS[1..n]; ARGV: [gp, nb], ttl, id args x n → how many were committed. */
  commitMany: string;
  /**
   * KEYS[1]: to claim, KEYS[2..n]: to commit; ARGV: [gp, nb], leaseTtl, ttl, claim id args,
   * commit id args x (n - 1) → as a claim.
   */
  commitThenClaim: string;
  /** KEYS[1]; ARGV: [gp, nb], ttl, [shard, member] → 1 marked, 0 already done or in flight. */
  mark: string;
}

/**
 * Buckets are named by their number modulo this ring: a group lives until one window after its
 * bucket ends, at most one bucket, so a name is free again long before it comes round. Saves a
 * number-to-text conversion per group (Lua's is a `sprintf`).
 */
const RING = 4;

/** `v1`: the scripts of the versions before layouts (one key per id). */
const V1: LayoutScripts = {
  claim: `
if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[1]) then return nil end
return redis.call('GET', KEYS[1])`,
  commit: `
local v = redis.call('GET', KEYS[1])
if v == ARGV[2] or v == false then redis.call('SET', KEYS[1], 'done', 'PX', ARGV[1]) return 1 end
return 0`,
  claimMany: `
local out = {}
for i = 1, #KEYS do
  if redis.call('SET', KEYS[i], ARGV[i + 1], 'NX', 'PX', ARGV[1]) then out[i] = 0
  else out[i] = redis.call('GET', KEYS[i]) or 0 end
end
return out`,
  commitMany: `
local n = 0
for i = 1, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v == ARGV[i + 1] or v == false then redis.call('SET', KEYS[i], 'done', 'PX', ARGV[1]) n = n + 1 end
end
return n`,
  commitThenClaim: `
for i = 2, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v == ARGV[i + 2] or v == false then redis.call('SET', KEYS[i], 'done', 'PX', ARGV[2]) end
end
if redis.call('SET', KEYS[1], ARGV[3], 'NX', 'PX', ARGV[1]) then return nil end
return redis.call('GET', KEYS[1])`,
  mark: `
if redis.call('SET', KEYS[1], 'done', 'PX', ARGV[1], 'NX') then return 1 end
return 0`,
};

/**
 * `v2` / `dual` prelude: the clock, the two live groups' prefixes and the look-up. `gp` is ARGV[1];
 * `nb` (the bucket Node reckoned, for the commits) ARGV[2] where the script has it.
 */
function prelude(bucketMs: number, windowMs: number, withNodeBucket: boolean): string {
  return `
local B, W = ${bucketMs}, ${windowMs}
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local b = math.floor(now / B)
local gp = ARGV[1]
local g1 = gp .. string.char(48 + b % ${RING}) .. ':'
local g0 = false
if now - W < b * B then g0 = gp .. string.char(48 + (b - 1) % ${RING}) .. ':' end
local until_ = (b + 1) * B + W
local stale = ${withNodeBucket ? 'tonumber(ARGV[2]) ~= b' : 'false'}
local function seen(s, m)
  if redis.call('SISMEMBER', g1 .. s, m) == 1 then return now - b * B + 1 end
  if g0 and redis.call('SISMEMBER', g0 .. s, m) == 1 then return now - (b - 1) * B + 1 end
  return false
end
local function claim(key, token, lease, s, m)
  local r = seen(s, m)
  if r then return r end
  if redis.call('SET', key, token, 'NX', 'PX', lease) then return false end
  return redis.call('GET', key)
end
local function remember(s, m)
  local e = string.byte(s, 1) == 101
  if e then s = string.sub(s, 2) end
  local g = g1 .. s
  redis.call('SADD', g, m)
  if e or stale then redis.call('PEXPIREAT', g, until_) end
end
`;
}

/**
 * The commit of `v2`: the claim key goes (`GETDEL`, Redis >= 6.2), the fingerprint stays. Rarely
 * the key held something else (our lease ran out and another process claimed the id, or a `v1`
 * process marked it done): it is put back, for the TTL (an owner that is gone is still taken over
 * at once, see `redis-owner.ts`), and the commit answers 0.
 */
const COMMIT_V2 = `
local function commit(key, token, ttl, s, m)
  local v = redis.call('GETDEL', key)
  if v and v ~= token then
    redis.call('SET', key, v, 'PX', ttl)
    return 0
  end
  remember(s, m)
  return 1
end
local function mark(key, ttl, s, m)
  if redis.call('EXISTS', key) == 1 or seen(s, m) then return 0 end
  remember(s, m)
  return 1
end
`;

/** The commit of `dual`: the claim key turns into a `v1` record and the fingerprint joins a group. */
const COMMIT_DUAL = `
local function commit(key, token, ttl, s, m)
  local v = redis.call('GET', key)
  if v == token or v == false then
    redis.call('SET', key, 'done', 'PX', ttl)
    remember(s, m)
    return 1
  end
  return 0
end
local function mark(key, ttl, s, m)
  if seen(s, m) then return 0 end
  if not redis.call('SET', key, 'done', 'PX', ttl, 'NX') then return 0 end
  remember(s, m)
  return 1
end
`;

/** Builds a layout's scripts for one store's settings. @internal */
export function layoutScripts({ layout, bucketMs, windowMs }: LayoutScriptParams): LayoutScripts {
  if (layout === 'v1') return V1;
  const body = layout === 'dual' ? COMMIT_DUAL : COMMIT_V2;
  const withNb = prelude(bucketMs, windowMs, true) + body;
  const noNb = prelude(bucketMs, windowMs, false) + body;
  return {
    claim: `${noNb}return claim(KEYS[1], ARGV[3], ARGV[2], ARGV[4], ARGV[5])`,
    commit: `${withNb}return commit(KEYS[1], ARGV[4], ARGV[3], ARGV[5], ARGV[6])`,
    claimMany: `${noNb}
local out = {}
for i = 1, #KEYS do
  local a = 3 * i
  out[i] = claim(KEYS[i], ARGV[a], ARGV[2], ARGV[a + 1], ARGV[a + 2]) or 0
end
return out`,
    commitMany: `${withNb}
local n = 0
for i = 1, #KEYS do
  local a = 3 * i + 1
  n = n + commit(KEYS[i], ARGV[a], ARGV[3], ARGV[a + 1], ARGV[a + 2])
end
return n`,
    commitThenClaim: `${withNb}
for i = 2, #KEYS do
  local a = 3 * i + 2
  commit(KEYS[i], ARGV[a], ARGV[4], ARGV[a + 1], ARGV[a + 2])
end
return claim(KEYS[1], ARGV[5], ARGV[3], ARGV[6], ARGV[7])`,
    mark: `${withNb}return mark(KEYS[1], ARGV[3], ARGV[4], ARGV[5])`,
  };
}
