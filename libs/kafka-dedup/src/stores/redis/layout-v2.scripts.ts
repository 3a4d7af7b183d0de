import type { RedisLayout } from './redis-options';

/**
 * Lua of the claim and commit scripts of each layout. The in-flight claim is the same exact key in
 * all (`<prefix><scope>:<id>`): a claim taken by a process of any layout (or of a version before
 * layouts) excludes the others. Done records:
 *
 * - `v1`: the claim key holds the owner token (`PX leaseTtl`), then turns into `done` for the TTL
 *   (~200 B per id). These are the scripts of the versions before layouts: a claim is one `SET NX`.
 * - `v2`: the id's 64-bit fingerprint (computed in Node, see `redis-id-args.ts`: a shard number and
 *   a 49-bit integer member) joins a group AT CLAIM: a Redis set `<groupPrefix><bucket % 4>:<shard>`
 *   of integers (an intset: 8 B per id), one per (time bucket, shard), expiring as a whole one
 *   window after its bucket ends. The claim key says the id is still in flight: it holds
 *   `<token>/<lease deadline>` (ms, Redis' clock as Node reckons it) and lives as long as a group
 *   can (no `PX leaseTtl`: its expiry would make the id look done). A commit only deletes it. So:
 *   member and no claim key = done; member and a claim key = in flight (or `free`: released, see
 *   `redis.scripts.ts`); no member = new, unless the key holds a `v1` record or claim. A claim is a
 *   `SADD` (0: the id was seen in this bucket, one `GET` tells done from in flight), a look at the
 *   previous bucket's group while the window reaches into it, and `SET NX`: per new id as many Redis
 *   calls as `v1` (a `v2` claim + commit is ~3 calls per id against ~4.2 when the fingerprint
 *   joined at commit). An id claimed in one bucket and committed in a later one joins the
 *   commit's group too (Node asks, see `RedisIdArgs.commitId`), so it is remembered a whole window
 *   after its commit.
 * - `dual`: writes both records (the `v1` key and the `v2` group member, at commit) and reads both,
 *   for the rolling upgrade from a version before layouts (README "Redis memory and layouts"). Its
 *   own claims are `v1` claims (`PX leaseTtl`, no member), so processes of earlier versions read
 *   them; it reads `v2` claims (a member with a claim key) as in flight.
 *
 * The bucket is Node's (by Redis' clock, see `redis-id-args.ts`): no `TIME` in the scripts, and no
 * Lua closures (each costs Redis about as much as a look-up). The group's expiry (`PEXPIREAT`) is
 * set by the write that creates it ({@link GROUP_SENTINEL}), not per id.
 *
 * Returns of a claim: nil when claimed; 1 when the id is done in the group of the claim's bucket
 * (or of the next one), 2 in the previous bucket's group (Node turns it into the time since that
 * bucket began, an upper bound of the original's age); `done` for a `v1` record; else the value of
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
 * `dual`: the bucket's group prefix `gp` and `nb`, the bucket Node reckons x 4 + the look-up flags), the
 * scalars, then the per-id arguments: `token` (`v1`) or `value, shard, member` (`value` =
 * `<token>/<lease deadline>`).
 * @internal
 */
export interface LayoutScripts {
  /** KEYS[1]; ARGV: [gp, nb], leaseTtl, id args. */
  claim: string;
  /**
   * KEYS[1]; ARGV: [gp, nb], ttl, commit id args (`v2`: shard, member pairs of the ids to add to
   * the commit's group; the others: token, [shard, member] per key) → 1 committed, 0 another owner
   * holds it (`v1`, `dual`; `v2` commits whoever holds it).
   */
  commit: string;
  /**
   * KEYS[1..n]; ARGV: [gp, nb], leaseTtl, id args x n (`v2`: all ids in one argument, see
   * `RedisIdArgs.claimIds`) → per key 0 when claimed, else as a claim.
   */
  claimMany: string;
  /** KEYS[1..n]; ARGV: [gp, nb], ttl, commit id args → how many were committed. */
  commitMany: string;
  /**
   * KEYS[1]: to claim, KEYS[2..n]: to commit; ARGV: [gp, nb], leaseTtl, ttl, claim id args,
   * commit id args → as a claim.
   */
  commitThenClaim: string;
  /** KEYS[1]; ARGV: [gp, nb], ttl, [shard, member] → 1 marked, 0 already done or in flight. */
  mark: string;
  /**
   * KEYS[1]; ARGV: [gp, nb], held, token, leaseTtl, `/<deadline>`, [shard, member] → 1 when the
   * claim still held `held` and now belongs to `token` (its owner is gone or its lease ran out).
   */
  takeover: string;
}

/**
 * Buckets are named by their number modulo this ring: a group lives until one window after its
 * bucket ends, at most one bucket, so a name is free again long before it comes round. Saves a
 * number-to-text conversion per group (Lua's is a `sprintf`). @internal
 */
export const RING = 4;

/** The value of a released `v2` claim key (kept so its member does not read as done). @internal */
export const FREE_VALUE = 'free';

/**
 * A member every write adds with the id's (`-1`: fingerprint members are 0 … 2^49 − 1, so no id
 * reads as it, and nothing takes it out). `SADD g <member> -1` answers 2 only when it created the
 * group: that script then sets the group's expiry, in the same atomic step, so no group lives
 * without one (one dropped behind the store's back, by a flush or an eviction, is recreated with
 * it) and no process keeps a record of which groups have one. A claim that turns out not to be ours
 * takes its member out again (`SREM`): the sentinel keeps the group, and its expiry, from being
 * emptied, i.e. deleted. 8 B per group. @internal
 */
export const GROUP_SENTINEL = -1;

/**
 * Lua setting group `g`'s expiry (a bucket, the window and the clock margin after its bucket
 * began), after a `SADD` that created it. The time is made text once per script: a Lua number in a
 * `redis.call` costs a `sprintf` per call.
 */
const EXPIRE = `
  u = u or string.format('%.0f', until_)
  redis.call('PEXPIREAT', g, u)`;

/**
 * Lua condition: the claim value `v` is token `t`'s — the token itself (`v1`, `dual` claims) or the
 * token with a lease deadline (`<t>/<ms>`, `v2` claims); false when `v` is false (no key). @internal
 */
export function oursLua(v: string, t: string): string {
  return `(${v} == ${t} or (${v} and string.sub(${v}, 1, #${t} + 1) == ${t} .. '/'))`;
}

/**
 * `v1` / `dual` takeover. KEYS[1]; ARGV: held, token, leaseTtl, `/<deadline>`. A `v1` claim (a bare
 * token) is replaced by ours with `PX leaseTtl`; a `v2` one (a value with a lease deadline, or
 * `free`: its member stays in its group) by ours with a deadline and `PX` a group's `life` (not
 * the old key's remaining TTL: it may be about to run out).
 */
function takeoverPlain(life: number): string {
  return `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[1] == '${FREE_VALUE}' or string.find(ARGV[1], '/', 1, true) then redis.call('SET', KEYS[1], ARGV[2] .. ARGV[4], 'PX', '${life}')
else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1`;
}

/** `v1`: the scripts of the versions before layouts (one key per id). */
const V1: Omit<LayoutScripts, 'takeover'> = {
  // A v1 process may hold a v2-style claim (`<token>/<deadline>`) it took over (a rollback within
  // the window): its commits accept that value too (compared only when the plain token differs).
  claim: `
if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[1]) then return nil end
return redis.call('GET', KEYS[1])`,
  commit: `
local v = redis.call('GET', KEYS[1])
if v == false or ${oursLua('v', 'ARGV[2]')} then redis.call('SET', KEYS[1], 'done', 'PX', ARGV[1]) return 1 end
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
  local v, t = redis.call('GET', KEYS[i]), ARGV[i + 1]
  if v == false or ${oursLua('v', 't')} then redis.call('SET', KEYS[i], 'done', 'PX', ARGV[1]) n = n + 1 end
end
return n`,
  commitThenClaim: `
for i = 2, #KEYS do
  local v, t = redis.call('GET', KEYS[i]), ARGV[i + 2]
  if v == false or ${oursLua('v', 't')} then redis.call('SET', KEYS[i], 'done', 'PX', ARGV[2]) end
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
 * and the bucket's group prefix (`ARGV[1]`, `<gp><bucket % 4>:`; the neighbours' are built here
 * when a claim needs them: {@link neighbour}). No `TIME`, no Lua closures and no string building
 * up front: every `redis.call`, closure or string costs Redis ~0.5–2 µs per script, as much as a
 * look-up (`INFO commandstats`, see the README; building the three prefixes cost ~2 µs).
 */
function prelude(bucketMs: number, windowMs: number): string {
  return `
local x = tonumber(ARGV[2])
local l = x % 4
local b = (x - l) / 4
local g1 = ARGV[1]
local g0, g2
local until_ = (b + 1) * ${bucketMs} + ${groupLifeMs(bucketMs, windowMs) - bucketMs}
local u
`;
}

/** Lua expression: the group prefix of the bucket `b + k` (k = 3: the previous one, 1: the next). */
function neighbour(k: 1 | 3): string {
  return `(string.sub(g1, 1, -3) .. string.char(48 + (b + ${k}) % ${RING}) .. ':')`;
}

/** Lua: looks for `m` in shard `s` of the previous (h = 2) and next (h = `next`) buckets' groups. */
function lookAround(next: 1 | 3): string {
  return `
  if l % 2 == 1 then
    g0 = g0 or ${neighbour(3)}
    if redis.call('SISMEMBER', g0 .. s, m) == 1 then h = 2 end
  end
  if not h and l >= 2 then
    g2 = g2 or ${neighbour(1)}
    if redis.call('SISMEMBER', g2 .. s, m) == 1 then h = ${next} end
  end`;
}

/**
 * How long a `v2` group or claim key lives at most (ms): a bucket, the window and the clock
 * margin. A `v2` claim key gets this `PX`, so it outlives any group its member is in (while the
 * member is there, the key alone tells in flight from done). @internal
 */
export function groupLifeMs(bucketMs: number, windowMs: number): number {
  return bucketMs + windowMs + clockMarginMs(bucketMs);
}

/**
 * Lua of one `v2` claim (`value` = `<token>/<lease deadline>`): sets
 * `r` to false (claimed), 1 (done: the member was in the claim bucket's group), 2 / 3 (done in the
 * previous / next bucket's group) or the claim key's value (in flight, or a `v1` `done`).
 *
 * The member joins the group first, with the {@link GROUP_SENTINEL} (`SADD`: 0 = seen in this
 * bucket, one `GET` says done or in flight; 2 = the group is new: its expiry is set); a new one is
 * then looked for in the neighbour groups the flags name and claimed (`SET NX`, `PX` a group's
 * life). When it turns out not to be ours to claim (done in a neighbour group, in flight elsewhere,
 * a `v1` record), the member is taken out again, so a group never holds a member its claim key may
 * not outlive — except `free` (a released `v2` claim: taken, the member stays in this bucket's
 * group so the id is remembered a window from now).
 */
function claimV2(key: string, value: string, s: string, m: string, life: number): string {
  return `
local s, m = ${s}, ${m}
local g, v = g1 .. s, false
local added = redis.call('SADD', g, m, '${GROUP_SENTINEL}')
if added == 2 then${EXPIRE}
end
if added == 0 then
  v = redis.call('GET', ${key})
  r = v or 1
else
  local h = false${lookAround(3)}
  if h then
    v = redis.call('GET', ${key})
    r = v or h
  elseif redis.call('SET', ${key}, ${value}, 'NX', 'PX', '${life}') then r = false
  else
    v = redis.call('GET', ${key})
    r = v
  end
  if r and v ~= '${FREE_VALUE}' then redis.call('SREM', g, m) end
end
if v == '${FREE_VALUE}' then redis.call('SET', ${key}, ${value}, 'PX', '${life}') r = false end`;
}

/**
 * Lua of one `dual` claim: the groups first (a member with a claim key is a `v2` claim in flight,
 * with none it is done), then a `v1` claim (`SET NX PX leaseTtl` of the token without the lease
 * deadline: earlier versions read it). A `free` key (a released `v2` claim) is taken as a `v2` claim.
 */
function claimDual(
  key: string,
  value: string,
  lease: string,
  s: string,
  m: string,
  life: number,
): string {
  return `
local s, m = ${s}, ${m}
local v, h = false, false
if redis.call('SISMEMBER', g1 .. s, m) == 1 then h = 1 else${lookAround(1)}
end
if h then
  v = redis.call('GET', ${key})
  r = v or h
elseif redis.call('SET', ${key}, string.sub(${value}, 1, string.find(${value}, '/', 1, true) - 1), 'NX', 'PX', ${lease}) then r = false
else
  v = redis.call('GET', ${key})
  r = v
end
if v == '${FREE_VALUE}' then redis.call('SET', ${key}, ${value}, 'PX', '${life}') r = false end`;
}

/**
 * Lua adding member `m` to shard `s`'s group of the bucket, with the {@link GROUP_SENTINEL} (and the
 * group's expiry when that created it).
 */
const REMEMBER = `
local g = g1 .. s
if redis.call('SADD', g, m, '${GROUP_SENTINEL}') == 2 then${EXPIRE}
end`;

/**
 * Lua of the `v2` commits of KEYS[first..#KEYS], counted in `n`: one `DEL` per 1,000 claim keys
 * (the members joined at claim), then the `shard, member` pairs from `ARGV[base]` on join the
 * commit's group (ids claimed in an earlier bucket: see `RedisIdArgs.commitId`). No token is
 * compared: a commit comes only after the handler ran, so the id is done whoever holds its claim
 * key now (our lease ran out and another process took it over, or released it: its copy is done
 * either way). Saves a `GET` per key.
 */
function commitV2(first: number, base: number): string {
  return `
for c = ${first}, #KEYS, 1000 do
  redis.call('DEL', unpack(KEYS, c, math.min(#KEYS, c + 999)))
end
for a = ${base}, #ARGV, 2 do
  local s, m = ARGV[a], ARGV[a + 1]${REMEMBER}
end
n = n + #KEYS - ${first} + 1`;
}

/**
 * Lua of the `dual` commits: each claim key still ours (its token, alone or with a lease deadline)
 * or gone turns into a `v1` record, and the fingerprint joins the commit's group.
 */
function commitDual(first: number, ttl: string, shift: number): string {
  return `
for i = ${first}, #KEYS do
  local a = 3 * i + ${shift}
  local v, t = redis.call('GET', KEYS[i]), ARGV[a]
  if v == false or ${oursLua('v', 't')} then
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

/**
 * Lua reading the ids of a `v2` batch claim: `ARGV[4]` holds `<value> <shard> <member>` of every id,
 * separated by spaces (none of them has one), instead of three arguments per id. Each argument costs
 * the client ~0.23 µs (ioredis copies, flattens and frames every one) and Redis a string of its own
 * either way: one argument per chunk saves the consumer ~0.6 µs per id for ~0.15 µs more of Redis
 * (measured on this machine), and in batch mode the consumer's main thread is the bound.
 */
const PACKED_IDS = `
local find, sub = string.find, string.sub
local p, at = ARGV[4], 1`;

/** Builds a layout's scripts for one store's settings. @internal */
export function layoutScripts({ layout, bucketMs, windowMs }: LayoutScriptParams): LayoutScripts {
  const life = groupLifeMs(bucketMs, windowMs);
  if (layout === 'v1') return { ...V1, takeover: takeoverPlain(life) };
  const head = prelude(bucketMs, windowMs);
  const dual = layout === 'dual';
  // Commit id args: `v2` shard, member pairs (only the ids to add); `dual` token, shard, member per key.
  const commits = (first: number, ttl: string, base: number): string =>
    dual ? commitDual(first, ttl, base - 3 * first) : commitV2(first, base);
  const claimOne = (key: string, value: string, lease: string, s: string, m: string): string =>
    dual ? claimDual(key, value, lease, s, m, life) : claimV2(key, value, s, m, life);
  const markExists = dual
    ? `if redis.call('SET', KEYS[1], 'done', 'PX', ARGV[3], 'NX') == false then return 0 end`
    : `if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end`;
  return {
    claim: `${head}local r${claimOne('KEYS[1]', 'ARGV[4]', 'ARGV[3]', 'ARGV[5]', 'ARGV[6]')}
if r then return r end
return nil`,
    commit: `${head}local n = 0${commits(1, 'ARGV[3]', 4)}
return n`,
    claimMany: dual
      ? `${head}
local out = {}
for i = 1, #KEYS do
  local a, r = 3 * i + 1${claimOne('KEYS[i]', 'ARGV[a]', 'ARGV[3]', 'ARGV[a + 1]', 'ARGV[a + 2]')}
  out[i] = r or 0
end
return out`
      : `${head}${PACKED_IDS}
local out = {}
for i = 1, #KEYS do
  local e1 = find(p, ' ', at, true)
  local e2 = find(p, ' ', e1 + 1, true)
  local e3 = find(p, ' ', e2 + 1, true) or #p + 1
  local value, r = sub(p, at, e1 - 1)
  at = e3 + 1${claimOne('KEYS[i]', 'value', 'ARGV[3]', 'sub(p, e1 + 1, e2 - 1)', 'sub(p, e2 + 1, e3 - 1)')}
  out[i] = r or 0
end
return out`,
    commitMany: `${head}local n = 0${commits(1, 'ARGV[3]', 4)}
return n`,
    commitThenClaim: `${head}local n = 0
if #KEYS > 1 then${commits(2, 'ARGV[4]', 8)}
end
local r${claimOne('KEYS[1]', 'ARGV[5]', 'ARGV[3]', 'ARGV[6]', 'ARGV[7]')}
if r then return r end
return nil`,
    // A member with a `free` key (a released `v2` claim) is not done: marked like an absent one.
    mark: `${head}
local s, m = ARGV[4], ARGV[5]
local hit = redis.call('SISMEMBER', g1 .. s, m) == 1
  or (l % 2 == 1 and redis.call('SISMEMBER', ${neighbour(3)} .. s, m) == 1)
  or (l >= 2 and redis.call('SISMEMBER', ${neighbour(1)} .. s, m) == 1)
if hit then
  if redis.call('GET', KEYS[1]) ~= '${FREE_VALUE}' then return 0 end
  redis.call('DEL', KEYS[1])
end
${markExists}${REMEMBER}
return 1`,
    takeover: dual
      ? takeoverPlain(life)
      : `${head}
if redis.call('GET', KEYS[1]) ~= ARGV[3] then return 0 end
local s, m = ARGV[7], ARGV[8]${REMEMBER}
redis.call('SET', KEYS[1], ARGV[4] .. ARGV[6], 'PX', '${life}')
return 1`,
  };
}
