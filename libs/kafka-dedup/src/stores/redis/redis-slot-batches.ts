import type { DedupKey, DedupTokenedKey } from '../../interfaces/dedup-key.interface';
import type { RedisIdArgs } from './redis-id-args';
import type { DedupCommands, RedisKey } from './redis.scripts';
import { groupBySlot } from './slot-groups';

/**
 * The Redis store's batch commits, releases and lease renewals: one multi-key script per hash slot
 * (one in all on a standalone Redis), the slots in parallel. @internal
 */
export class RedisSlotBatches {
  constructor(
    private readonly redis: DedupCommands,
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

  commit(items: readonly DedupTokenedKey[], ttl: number): Promise<void> {
    return this.perSlot(items, (keys, group) => {
      const args: Array<RedisKey | number> = [keys.length, ...keys];
      const bucket = this.args.head(args, keys[0]);
      args.push(ttl);
      for (const i of group) this.args.commitId(args, items[i].key, items[i].token, bucket);
      return this.redis.dedupCommitMany(...args);
    });
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
