import type { DedupKey } from '../../interfaces/dedup-key.interface';
import { FP } from '../memory/fingerprint';
import { KeyFingerprinter } from '../memory/key-fingerprinter';
import { clockMarginMs, groupLifeMs } from './layout-v2.scripts';
import type { GroupPrefixes } from './redis-layout';
import type { RedisLayout } from './redis-options';
import type { RedisKey } from './redis.scripts';

/** How often Redis' clock is read again (ms). */
const CLOCK_SYNC_MS = 60_000;
/** 2^17: the member takes the high 32 bits of the fingerprint and 17 of the low ones. */
const LOW_BITS = 131_072;

/**
 * The script arguments of the layouts (see `layout-v2.scripts.ts`): for `v2` and `dual`, each id's
 * shard and member, taken from its 64-bit fingerprint here in Node (the memory store's hash, seeded
 * by the scope: ~0.1 µs for a 60-character id), so the scripts hash nothing. The low 15 bits pick
 * the shard, the other 49 are the member (an integer, so the group stays an intset): 64 bits in
 * all. `v1` sends the token alone, as the versions before layouts did. The fingerprints are kept in
 * Redis and shared by every replica: changing the hash (`../memory/fingerprint.ts`) or the split
 * needs a new layout version in the group keys.
 *
 * A group's expiry is set by the script whose write creates it (`GROUP_SENTINEL`): nothing here
 * keeps track of groups.
 *
 * The bucket is reckoned here, from this process's clock corrected by Redis' (`TIME` at bootstrap,
 * after a reconnection and every {@link CLOCK_SYNC_MS}), so the scripts call no `TIME`: every
 * replica names buckets by Redis' clock within the round trip of its last `TIME`. The head of a
 * script carries the bucket x 4 + which other groups a claim looks at: 1 the previous bucket's
 * (while the window reaches into it), 2 the next one's (within the clock margin of the bucket's
 * end, where a replica whose clock is ahead may already write there).
 * @internal
 */
export class RedisIdArgs {
  readonly compact: boolean;
  /** The `PX` of a `v2` claim key: a group's longest life (`layout-v2.scripts.ts`). */
  readonly claimLifeMs: number;
  /** Whether a commit carries the claim's token (`v1`, `dual`: compare-and-set on the claim key). */
  private readonly tokenAtCommit: boolean;
  /**
   * `v2`: the member joins its group at claim (and a takeover), not at commit, so a commit only
   * deletes the claim key (see {@link commitId}).
   */
  readonly joinsAtClaim: boolean;
  private readonly fingerprints = new KeyFingerprinter();
  private readonly shardNames: string[];
  private readonly timer?: NodeJS.Timeout;
  private readonly marginMs: number;
  /** Redis' clock minus this process's (ms), from the last `TIME`. */
  private offsetMs = 0;
  /** Redis' time at the last {@link head} (a chunk's claims share it: one clock read per script). */
  private headAt = 0;
  /** The bucket of the last {@link head}, and the last claim token issued when it began here. */
  private bucket = Number.NaN;
  private rolledAt = '';
  /** The last lease deadline suffix (`/<ms>`) and its time. */
  private deadline = '';
  private deadlineAt = -1;

  /**
   * @param windowMs the longest TTL (how far back a claim looks)
   * @param time Redis' `TIME` (`[seconds, microseconds]`), to align the buckets with Redis' clock
   * @param lastToken the last claim token issued (`OwnerLiveness`)
   */
  constructor(
    layout: RedisLayout,
    private readonly groups: GroupPrefixes,
    private readonly shards: number,
    private readonly bucketMs: number,
    private readonly windowMs = bucketMs,
    private readonly time?: () => Promise<ArrayLike<string | number>>,
    private readonly lastToken: () => string = () => '',
  ) {
    this.compact = layout !== 'v1';
    this.claimLifeMs = groupLifeMs(bucketMs, windowMs);
    this.tokenAtCommit = layout !== 'v2';
    this.joinsAtClaim = layout === 'v2';
    this.marginMs = clockMarginMs(bucketMs);
    this.shardNames = this.compact ? Array.from({ length: shards }, (_, i) => String(i)) : [];
    if (this.compact) {
      this.timer = setInterval(() => void this.syncClock(), CLOCK_SYNC_MS);
      this.timer.unref();
    }
  }

  /**
   * Reads Redis' clock (`TIME`) and keeps its offset from this process's; an answer slower than a
   * second, or none, leaves the last offset (answers false). Never throws.
   */
  async syncClock(): Promise<boolean> {
    if (!this.compact || this.time === undefined) return true;
    try {
      const sent = Date.now();
      const [seconds, micros] = Array.from(await this.time());
      const received = Date.now();
      if (received - sent > 1_000) return false;
      this.offsetMs =
        Number(seconds) * 1_000 +
        Math.floor(Number(micros) / 1_000) -
        Math.round((sent + received) / 2);
      return true;
    } catch {
      // Not connected, or TIME refused: the last offset stays (the next reconnection syncs again).
      return false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Redis' time as this process reckons it (ms). */
  now(): number {
    return Date.now() + this.offsetMs;
  }

  /**
   * The head of a claim or commit script (`v2`, `dual`): the prefix of the bucket's groups in
   * `redisKey`'s slot and the bucket x 4 + the look-up flags; returns the bucket (0 for `v1`, which
   * has no head).
   */
  head(out: Array<RedisKey | number>, redisKey: RedisKey): number {
    if (!this.compact) return 0;
    const now = (this.headAt = this.now());
    const bucket = Math.floor(now / this.bucketMs);
    const start = bucket * this.bucketMs;
    const flags =
      (now - this.windowMs - this.marginMs < start ? 1 : 0) +
      (now + this.marginMs >= start + this.bucketMs ? 2 : 0);
    out.push(this.groups.ofBucket(redisKey, bucket), bucket * 4 + flags);
    if (bucket !== this.bucket) {
      // Tokens issued until now may have been claimed in an earlier bucket (see commitId).
      this.bucket = bucket;
      this.rolledAt = this.lastToken();
    }
    return bucket;
  }

  /**
   * The lease deadline suffix of a `v2` claim value, `/<ms>` by Redis' clock as reckoned here,
   * rounded up to 16 ms so that claims close together share one string.
   */
  leaseDeadline(leaseTtl: number, now = this.now()): string {
    const at = Math.ceil((now + leaseTtl) / 16) * 16;
    if (at !== this.deadlineAt) {
      this.deadlineAt = at;
      this.deadline = `/${at}`;
    }
    return this.deadline;
  }

  /** Whether a claim value carries a lease deadline (a `v2` claim) that has passed. */
  leaseOver(value: string): boolean {
    const at = value.lastIndexOf('/');
    return at >= 0 && Number(value.slice(at + 1)) < this.now();
  }

  /**
   * The ms since the bucket of a group that held the id began (at least the original's age): `hit`
   * is a claim's answer, 1 (the current bucket's group) or 3 (the next one's, within the clock
   * margin; `dual` answers 1) or 2 (the previous one's), `bucket` the one {@link head} returned.
   */
  hitAge(hit: number, bucket: number): number {
    return Math.max(1, this.now() - (hit === 2 ? bucket - 1 : bucket) * this.bucketMs + 1);
  }

  /**
   * An id's arguments for a claim, after {@link head}: its token (`v1`), or its claim value
   * (`<token>/<lease deadline>`), shard and member (`v2`, `dual`).
   */
  claimId(out: Array<RedisKey | number>, key: DedupKey, token: string, leaseTtl: number): void {
    if (!this.compact) {
      out.push(token);
      return;
    }
    out.push(token + this.leaseDeadline(leaseTtl, this.headAt));
    this.pushId(out, key);
  }

  /**
   * The id arguments of a batch claim of `keys[i]` with `tokens[i]` for each `i` of `indices`, after
   * {@link head}: {@link claimId} for each, or, for `v2`, one argument holding `<value> <shard>
   * <member>` of every id, separated by spaces (see `layout-v2.scripts.ts`).
   */
  claimIds(
    out: Array<RedisKey | number>,
    keys: readonly DedupKey[],
    tokens: readonly string[],
    indices: readonly number[],
    leaseTtl: number,
  ): void {
    if (!this.joinsAtClaim) {
      for (const i of indices) this.claimId(out, keys[i], tokens[i], leaseTtl);
      return;
    }
    const deadline = this.leaseDeadline(leaseTtl, this.headAt);
    // One join copies every part once (a string built with += is a tree of pieces, flattened later).
    const parts: string[] = [];
    for (const i of indices) {
      parts.push(tokens[i] + deadline);
      this.pushId(parts, keys[i]);
    }
    out.push(parts.join(' '));
  }

  /**
   * An id's arguments for a commit, after {@link head}: the token (`v1`, `dual`), the shard and member
   * (`dual`). A `v2` commit compares no token (`layout-v2.scripts.ts`) and its member joined at
   * claim: only an id whose token was issued before this bucket began here (claimed in an earlier
   * bucket, maybe) sends its shard and member, to be remembered a whole window after its commit.
   */
  commitId(out: Array<RedisKey | number>, key: DedupKey, token: string): void {
    if (this.tokenAtCommit) out.push(token);
    else if (issuedAfter(token, this.rolledAt)) return;
    if (this.compact) this.pushId(out, key);
  }

  /**
   * The arguments of a takeover of `redisKey`'s claim (held as `held`) by `token`: `v2` adds the
   * head and the id's shard and member, as the taker makes it a
   * `v2` claim in this bucket's group.
   */
  takeover(
    out: Array<RedisKey | number>,
    redisKey: RedisKey,
    key: DedupKey,
    held: string,
    token: string,
    leaseTtl: number,
  ): void {
    if (this.joinsAtClaim) this.head(out, redisKey);
    out.push(held, token, leaseTtl, this.leaseDeadline(leaseTtl));
    if (this.joinsAtClaim) this.pushId(out, key);
  }

  /** An id's arguments for a mark (no token). */
  markId(out: Array<RedisKey | number>, key: DedupKey): void {
    if (this.compact) this.pushId(out, key);
  }

  /** `key`'s shard and member. */
  private pushId(out: { push(...items: string[]): unknown }, key: DedupKey): void {
    this.fingerprints.fingerprint(key);
    out.push(this.shardNames[FP[1] & (this.shards - 1)], member());
  }
}

/**
 * Whether claim token `token` was issued after `last`: both `<owner>:<n base 36>` of this process
 * (`OwnerLiveness.token`), so a longer one, or a greater one of the same length, is later (digits
 * and lower-case letters sort in base-36 order). A string compare, not a parse, per commit.
 */
function issuedAfter(token: string, last: string): boolean {
  return token.length !== last.length ? token.length > last.length : token > last;
}

/** Zeros to pad the low 8 digits of a member. */
const PAD = ['', '0', '00', '000', '0000', '00000', '000000', '0000000'];

/**
 * The 49-bit member of the fingerprint in {@link FP}, as decimal text. Written as two small
 * integers (above and below 10^8): V8 prints those ~2.5x faster than one number above 2^31
 * (~130 vs ~320–400 ns here), and every id needs it at claim and again at commit.
 * @internal
 */
export function member(): string {
  const n = FP[0] * LOW_BITS + (FP[1] >>> 15);
  if (n < 1e8) return String(n);
  const high = Math.floor(n / 1e8);
  const low = String(n - high * 1e8);
  return String(high) + PAD[8 - low.length] + low;
}
