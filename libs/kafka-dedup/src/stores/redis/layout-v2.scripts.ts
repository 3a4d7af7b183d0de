import type { RedisLayout } from './redis-options';

/**
 * Lua of the claim and commit scripts of each layout. The in-flight claim is the same exact key in
 * all (`<prefix><scope>:<id>` holding the owner token, `PX leaseTtl`): a claim taken by a process of
 * any layout (or of a version before layouts) excludes the others. Done records:
 *
 * - `v1`: the claim key itself turns into `done` for the TTL (~200 B per id). These are the
 *   scripts of the versions before layouts, unchanged: a `v1` claim is one `SET NX`.
 * - `v2`: the claim key is deleted and the id's 64-bit fingerprint (computed in Node, see
 *   `redis-id-args.ts`: a shard number and a 49-bit integer member) joins a group: a Redis set
 *   `<groupPrefix><bucket % 4>:<shard>` of integers (an intset: 8 B per id), one per (time bucket,
 *   shard), expiring as a whole one window after its bucket ends. A bucket is at least the window
 *   long, so a claim looks at 2 groups (the newest first, stopping at a hit), then `SET NX`.
 *   A `v1` done record answers that `SET NX` as before: `v2` reads the records of `v1` at no cost.
 * - `dual`: writes both records (the `v1` key and the `v2` group member) and reads both, for the
 *   rolling upgrade from a version before layouts (README "Redis memory and layouts").
 *
 * The bucket is Node's (by Redis' clock, see `redis-id-args.ts`): no `TIME` in the scripts, and no
 * Lua closures (each costs Redis about as much as a look-up). The group's expiry (`PEXPIREAT`) is
 * sent only when Node asks for it (the first commit of this process to a group in a bucket, and
 * again every minute): a commit is a `DEL` and a `SADD`; a batch of commits one `DEL` for all the
 * keys and a `SADD` each (no token compared: see `commitV2`).
 *
 * Returns of a claim: nil when claimed; 1 when the id is done in the group of the claim's bucket
 * (or of the next one), 2 in the previous bucket's group (Node turns it into the time since that
 * bucket began, an upper bound of the original's age); `done` for a `v1` record; else the token of
 * the claim in flight.
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
 * `dual`: the group prefix `gp` and `nb`, the bucket Node reckons x 4 + the look-up flags), the
 * scalars, then the per-id arguments: `token` (`v1`) or `token, shard, member`. A shard starting
 * with `e` asks for the group's expiry to be (re)set.
 * @internal
 */
export interface LayoutScripts {
  /** KEYS[1]; ARGV: [gp, nb], leaseTtl, id args. */
  claim: string;
  /**
   * KEYS[1]; ARGV: [gp, nb], ttl, commit id args (`v2`: shard, member; the others: the token
   * first) → 1 committed, 0 another owner holds it (`v1`, `dual`; `v2` commits whoever holds it).
   */
  commit: string;
  /** KEYS[1..n]; ARGV: [gp, nb], leaseTtl, id args x n → per key 0 when claimed, else as a claim. */
  claimMany: string;
  /** KEYS[1..n]; ARGV: [gp, nb], ttl, commit id args x n → how many were committed. */
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
 * `v2` / `dual` prelude: the bucket and look-up flags Node reckoned (`ARGV[2]` = bucket x 4 +
 * flags: 1 = look at the previous bucket's group, 2 = at the next one's; see `redis-id-args.ts`)
 * and the group prefixes. No `TIME` and no Lua closures: every `redis.call` and closure costs
 * Redis ~1–2 µs per script, as much as a look-up (`INFO commandstats`, see the README).
 */
function prelude(bucketMs: number, windowMs: number): string {
  return `
local x = tonumber(ARGV[2])
local l = x % 4
local b = (x - l) / 4
local gp = ARGV[1]
local g1 = gp .. string.char(48 + b % ${RING}) .. ':'
local g0 = gp .. string.char(48 + (b + ${RING - 1}) % ${RING}) .. ':'
local g2 = gp .. string.char(48 + (b + 1) % ${RING}) .. ':'
local until_ = (b + 1) * ${bucketMs} + ${windowMs + clockMarginMs(bucketMs)}
`;
}

/**
 * Lua of one claim: sets `r` to false (claimed), 1 (done in the current or next bucket's group), 2
 * (done in the previous bucket's group) or the claim key's value (a token in flight, `done`).
 */
function claimLua(key: string, token: string, lease: string, s: string, m: string): string {
  return `
local s, m = ${s}, ${m}
if redis.call('SISMEMBER', g1 .. s, m) == 1 then r = 1
elseif l % 2 == 1 and redis.call('SISMEMBER', g0 .. s, m) == 1 then r = 2
elseif l >= 2 and redis.call('SISMEMBER', g2 .. s, m) == 1 then r = 1
elseif redis.call('SET', ${key}, ${token}, 'NX', 'PX', ${lease}) then r = false
else r = redis.call('GET', ${key}) end`;
}

/** Lua adding member `m` to shard `s`'s group of the bucket (and its expiry when `s` = `e<n>`). */
const REMEMBER = `
if string.byte(s, 1) == 101 then
  local g = g1 .. string.sub(s, 2)
  redis.call('SADD', g, m)
  redis.call('PEXPIREAT', g, until_)
else redis.call('SADD', g1 .. s, m) end`;

/**
 * Lua of the `v2` commits of KEYS[first..#KEYS] (id args `shard, member` from `ARGV[2 * i + shift]`),
 * counted in `n`: one `DEL` per 1,000 claim keys, then a `SADD` each. No token is compared: a
 * commit comes only after the handler ran, so the id is done whoever holds its claim key now (our
 * lease ran out and another process took it over, or a `dual` process marked it done: its copy is
 * done either way, and the group says so to every layout that reads groups). Saves the `GET` of
 * each key (an `MGET` of a batch cost Redis ~1.2 µs per key, more than the `DEL`).
 */
function commitV2(first: number, shift: number): string {
  return `
for c = ${first}, #KEYS, 1000 do
  local last = math.min(#KEYS, c + 999)
  redis.call('DEL', unpack(KEYS, c, last))
  for i = c, last do
    local a = 2 * i + ${shift}
    local s, m = ARGV[a], ARGV[a + 1]${REMEMBER}
  end
end
n = n + #KEYS - ${first} + 1`;
}

/** Lua of the `dual` commits: each claim key turns into a `v1` record, each fingerprint joins a group. */
function commitDual(first: number, ttl: string, shift: number): string {
  return `
for i = ${first}, #KEYS do
  local a = 3 * i + ${shift}
  local v = redis.call('GET', KEYS[i])
  if v == ARGV[a] or v == false then
    redis.call('SET', KEYS[i], 'done', 'PX', ${ttl})
    local s, m = ARGV[a + 1], ARGV[a + 2]${REMEMBER}
    n = n + 1
  end
end`;
}

/**
 * Margin for the clocks of the replicas and Redis masters (ms): Node reckons the bucket from its
 * own clock, kept aligned with Redis' (`TIME`, see `redis-id-args.ts`); within this margin of a
 * bucket's end a claim also looks at the next bucket's group, within it of the window's start at
 * the previous one's, and groups live this much longer. 2 s, at most a quarter of a bucket.
 * @internal
 */
export function clockMarginMs(bucketMs: number): number {
  return Math.min(2_000, Math.floor(bucketMs / 4));
}

/** Builds a layout's scripts for one store's settings. @internal */
export function layoutScripts({ layout, bucketMs, windowMs }: LayoutScriptParams): LayoutScripts {
  if (layout === 'v1') return V1;
  const head = prelude(bucketMs, windowMs);
  // Commit id args: `v2` shard, member (2 per id); `dual` token, shard, member (3 per id).
  const commits = (first: number, ttl: string, base: number): string =>
    layout === 'dual'
      ? commitDual(first, ttl, base - 3 * first)
      : commitV2(first, base - 2 * first);
  const markV2 = `if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end`;
  const markDual = `if redis.call('SET', KEYS[1], 'done', 'PX', ARGV[3], 'NX') == false then return 0 end`;
  return {
    claim: `${head}local r${claimLua('KEYS[1]', 'ARGV[4]', 'ARGV[3]', 'ARGV[5]', 'ARGV[6]')}
if r then return r end
return nil`,
    commit: `${head}local n = 0${commits(1, 'ARGV[3]', 4)}
return n`,
    claimMany: `${head}
local out = {}
for i = 1, #KEYS do
  local a, r = 3 * i + 1${claimLua('KEYS[i]', 'ARGV[a]', 'ARGV[3]', 'ARGV[a + 1]', 'ARGV[a + 2]')}
  out[i] = r or 0
end
return out`,
    commitMany: `${head}local n = 0${commits(1, 'ARGV[3]', 4)}
return n`,
    commitThenClaim: `${head}local n = 0
if #KEYS > 1 then${commits(2, 'ARGV[4]', 8)}
end
local r${claimLua('KEYS[1]', 'ARGV[5]', 'ARGV[3]', 'ARGV[6]', 'ARGV[7]')}
if r then return r end
return nil`,
    mark: `${head}
local s, m = ARGV[4], ARGV[5]
local t = string.byte(s, 1) == 101 and string.sub(s, 2) or s
if redis.call('SISMEMBER', g1 .. t, m) == 1
  or (l % 2 == 1 and redis.call('SISMEMBER', g0 .. t, m) == 1)
  or (l >= 2 and redis.call('SISMEMBER', g2 .. t, m) == 1) then return 0 end
${layout === 'dual' ? markDual : markV2}${REMEMBER}
return 1`,
  };
}
