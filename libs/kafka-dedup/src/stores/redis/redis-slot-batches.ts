import type { DedupKey, DedupTokenedKey } from '../../interfaces/dedup-key.interface';
import type { RedisIdArgs } from './redis-id-args';
import type { DedupCommands, RedisKey } from './redis.scripts';
import { groupBySlot } from './slot-groups';

/**
 * The Redis store's batch commits, releases and lease renewals: one multi-key script per hash slot
 * (one in all on a standalone Redis), the slots in parallel; `v2` commits are mostly a plain `DEL`
 * ({@link RedisSlotBatches.commit}). @internal
 */
export class RedisSlotBatches {
  constructor(
    private readonly redis: DedupCommands & { del(...keys: RedisKey[]): Promise<number> },
    private readonly args: RedisIdArgs,
    private readonly slotOf: ((key: RedisKey) => number) | undefined,
    private readonly redisKey: (key: DedupKey) => RedisKey,
  ) {}

  renew(claims: readonly DedupTokenedKey[], leaseTtl: number): Promise<void> {
    return this.perSlot(claims, (keys, group) =>
      this.redis.dedupRenewMany(
        keys.length,
        ...keys,
        leaseTtl,
        this.args.leaseDeadline(leaseTtl),
        this.args.claimLifeMs,
        ...group.map((i) => claims[i].token),
      ),
    );
  }

  /**
   * Commits `items`: per slot one commit script (`v1`, `dual`: each key compared with its token). A
   * `v2` commit only deletes the claim key (its member joined the group at claim): the keys of ids
   * claimed in the current bucket go in one plain `DEL` — the same work without a script, which
   * would cost Redis ~0.7 µs more per key (its arguments turned into Lua strings and back) — and
   * only those claimed before the bucket began here go through the script, which also adds them to
   * the commit's group. Both are sent at once; each is atomic, and either order is safe (a member
   * with no claim key reads as done).
   */
  commit(items: readonly DedupTokenedKey[], ttl: number): Promise<void> {
    return this.perSlot(items, (keys, group) => {
      if (this.args.joinsAtClaim) return this.deleteClaims(items, ttl, keys, group);
      const args: Array<RedisKey | number> = [keys.length, ...keys];
      this.args.head(args, keys[0]);
      args.push(ttl);
      for (const i of group) this.args.commitId(args, items[i].key, items[i].token);
      return this.redis.dedupCommitMany(...args);
    });
  }

  /** `v2` commits of one slot's `keys` (see {@link commit}). */
  private async deleteClaims(
    items: readonly DedupTokenedKey[],
    ttl: number,
    keys: RedisKey[],
    group: number[],
  ): Promise<void> {
    const head: Array<RedisKey | number> = [];
    this.args.head(head, keys[0]);
    const plain: RedisKey[] = [];
    const older: RedisKey[] = [];
    const ids: Array<RedisKey | number> = [];
    for (let g = 0; g < group.length; g++) {
      const sent = ids.length;
      this.args.commitId(ids, items[group[g]].key, items[group[g]].token);
      (ids.length === sent ? plain : older).push(keys[g]);
    }
    const writes: Array<Promise<number>> = [];
    if (older.length > 0) {
      writes.push(this.redis.dedupCommitMany(older.length, ...older, ...head, ttl, ...ids));
    }
    if (plain.length > 0) writes.push(this.redis.del(...plain));
    await Promise.all(writes);
  }

  release(items: readonly DedupTokenedKey[]): Promise<void> {
    return this.perSlot(items, (keys, group) =>
      this.redis.dedupReleaseMany(keys.length, ...keys, ...group.map((i) => items[i].token)),
    );
  }

  private async perSlot(
    items: readonly DedupTokenedKey[],
    run: (keys: RedisKey[], group: number[]) => Promise<unknown>,
  ): Promise<void> {
    if (items.length === 0) return;
    const redisKeys = items.map((item) => this.redisKey(item.key));
    const groups = groupBySlot(redisKeys, this.slotOf);
    // One group (a standalone Redis, or one slot) holds every index in order: the keys as they are.
    if (groups.length === 1) {
      await run(redisKeys, groups[0]);
      return;
    }
    await Promise.all(
      groups.map((group) =>
        run(
          group.map((i) => redisKeys[i]),
          group,
        ),
      ),
    );
  }
}
