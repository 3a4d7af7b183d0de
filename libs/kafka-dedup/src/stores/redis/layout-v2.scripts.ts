import type { RedisLayout } from './redis-options';

/**
 * Lua of the claim and commit scripts, for both layouts. The in-flight claim is the same exact key
 * in both (`<prefix><scope>:<id>` holding the owner token, `PX leaseTtl`): a claim taken by a
 * process of either layout (or of a version before layouts) excludes the others. Done records:
 *
 * - `v1`: the claim key itself turns into `done` for the TTL (~190 B per id);
 * - `v2`: the claim key is deleted and the id's fingerprint joins a group: a Redis set
 *   `<groupPrefix><bucket % 8>:<shard>` of 52-bit integers (an intset: 8 B per id), one per (time
 *   bucket, shard), expiring as a whole at the end of its bucket + the TTL.
 *
 * The fingerprint is computed here, from the claim key (`redis.sha1hex`: 16 bits pick the shard,
 * 52 more are the member), so the Node side sends the same arguments as before and allocates
 * nothing more per message. Every claim of either layout also looks the id up in the groups of
 * the live buckets (the newest first), so a `v1` and a `v2` process see each other's done ids: the
 * upgrade path. The bucket length, shard count and window are written into the script text (one
 * script per store setting).
 *
 * Returns of a claim: nil when claimed; a number (>= 1) when the id is done in a group (the ms its
 * group still lives minus one bucket: never more than the record's own remaining TTL, so the age
 * derived from it is never under-estimated, as the adaptive TTL requires; it is over-estimated by
 * up to a bucket); `done` for a `v1` done record; else the token of the claim in flight.
 * @internal
 */
export interface LayoutScriptParams {
  layout: RedisLayout;
  /** Bucket length in ms. */
  bucketMs: number;
  /** Shards per group prefix (per hash slot on a cluster). */
  shards: number;
  /** Longest TTL the store is given, in ms: how far back the claims look. */
  windowMs: number;
}

/** The scripts a layout defines (the others are shared: see `redis.scripts.ts`). @internal */
export interface LayoutScripts {
  /** KEYS[1]; ARGV: token, leaseTtl, groupPrefix. */
  claim: string;
  /** KEYS[1]; ARGV: token, ttl, groupPrefix → 1 committed, 0 another owner holds it. */
  commit: string;
  /** KEYS[1..n]; ARGV: leaseTtl, groupPrefix, token1..tokenN → per key 0 when claimed, else as a claim. */
  claimMany: string;
  /** KEYS[1..n]; ARGV: ttl, groupPrefix, token1..tokenN → how many were committed. */
  commitMany: string;
  /** KEYS[1]: to claim, KEYS[2..n]: to commit; ARGV: token, leaseTtl, ttl, groupPrefix, commit tokens → as claim. */
  commitThenClaim: string;
  /** KEYS[1]; ARGV: ttl, groupPrefix → 1 marked, 0 already done or in flight. */
  mark: string;
}

/**
 * Buckets are named by their number modulo this ring: a claim looks at most 6 back (the bucket
 * is at least a quarter of the window) and a group expires at most 5 buckets after its own
 * began, so a name is free again long before it comes round. Saves a number-to-text conversion
 * per group looked at (Lua's is a `sprintf`: ~0.8 µs).
 */
const RING = 8;

function prelude({ bucketMs, shards, windowMs }: LayoutScriptParams): string {
  return `
local B, S, W = ${bucketMs}, ${shards}, ${windowMs}
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local function fp(key)
  local h = redis.sha1hex(key)
  return ':' .. (tonumber(string.sub(h, 1, 4), 16) % S), tonumber(string.sub(h, 5, 17), 16)
end
local function seen(key, gp)
  local s, m = fp(key)
  for j = math.floor(now / B), math.floor((now - W) / B), -1 do
    local g = gp .. string.char(48 + j % ${RING}) .. s
    if redis.call('SISMEMBER', g, m) == 1 then
      local r = redis.call('PTTL', g) - B
      if r < 1 then return 1 end
      return r
    end
  end
  return false
end
local function claim(key, token, lease, gp)
  local r = seen(key, gp)
  if r then return r end
  if redis.call('SET', key, token, 'NX', 'PX', lease) then return false end
  return redis.call('GET', key)
end
`;
}

const REMEMBER_V2 = `
local function remember(key, gp, ttl)
  local s, m = fp(key)
  local b = math.floor(now / B)
  local g = gp .. string.char(48 + b % ${RING}) .. s
  redis.call('SADD', g, m)
  local left = (b + 1) * B + math.min(ttl, W) - now
  if redis.call('PTTL', g) < left then redis.call('PEXPIRE', g, left) end
end
local function commit(key, token, ttl, gp)
  local v = redis.call('GET', key)
  if v == token then redis.call('DEL', key) elseif v then return 0 end
  remember(key, gp, ttl)
  return 1
end
local function mark(key, ttl, gp)
  if redis.call('EXISTS', key) == 1 or seen(key, gp) then return 0 end
  remember(key, gp, ttl)
  return 1
end
`;

const REMEMBER_V1 = `
local function commit(key, token, ttl, gp)
  local v = redis.call('GET', key)
  if v == token or v == false then redis.call('SET', key, 'done', 'PX', ttl) return 1 end
  return 0
end
local function mark(key, ttl, gp)
  if seen(key, gp) then return 0 end
  if redis.call('SET', key, 'done', 'PX', ttl, 'NX') then return 1 end
  return 0
end
`;

/** Builds a layout's scripts for one store's settings. @internal */
export function layoutScripts(params: LayoutScriptParams): LayoutScripts {
  const head = prelude(params) + (params.layout === 'v2' ? REMEMBER_V2 : REMEMBER_V1);
  return {
    claim: `${head}return claim(KEYS[1], ARGV[1], ARGV[2], ARGV[3])`,
    commit: `${head}return commit(KEYS[1], ARGV[1], ARGV[2], ARGV[3])`,
    claimMany: `${head}
local out = {}
for i = 1, #KEYS do out[i] = claim(KEYS[i], ARGV[i + 2], ARGV[1], ARGV[2]) or 0 end
return out`,
    commitMany: `${head}
local n = 0
for i = 1, #KEYS do n = n + commit(KEYS[i], ARGV[i + 2], ARGV[1], ARGV[2]) end
return n`,
    commitThenClaim: `${head}
for i = 2, #KEYS do commit(KEYS[i], ARGV[i + 3], ARGV[3], ARGV[4]) end
return claim(KEYS[1], ARGV[1], ARGV[2], ARGV[4])`,
    mark: `${head}return mark(KEYS[1], ARGV[1], ARGV[2])`,
  };
}
