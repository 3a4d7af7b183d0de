/**
 * Lua scripts of the Redis store. Values: an owner token (in flight) or {@link DONE} (processed).
 * @internal
 */

/** Value of a done record; tokens are hex, so they never equal it. */
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

/** KEYS[1]; ARGV: token, leaseTtl → 1 renewed, 0 not the owner. */
export const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
