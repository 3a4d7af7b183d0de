import type { DedupKey, DedupTokenedKey } from '../../interfaces/dedup-key.interface';
import type { GroupPrefixes } from './redis-layout';
import type { DedupCommands, RedisKey } from './redis.scripts';
import { groupBySlot } from './slot-groups';

/**
 * The Redis store's batch commits, releases and lease renewals: one multi-key script per hash slot
 * (one in all on a standalone Redis), the slots in parallel. @internal
 */
export class RedisSlotBatches {
  constructor(
    private readonly redis: DedupCommands,
    private readonly groups: GroupPrefixes,
    private readonly slotOf: ((key: RedisKey) => number) | undefined,
    private readonly redisKey: (key: DedupKey) => RedisKey,
  ) {}

  renew(claims: readonly DedupTokenedKey[], leaseTtl: number): Promise<void> {
    return this.perSlot(claims, (keys, tokens) =>
      this.redis.dedupRenewMany(keys.length, ...keys, leaseTtl, ...tokens),
    );
  }

  commit(items: readonly DedupTokenedKey[], ttl: number): Promise<void> {
    return this.perSlot(items, (keys, tokens) =>
      this.redis.dedupCommitMany(keys.length, ...keys, ttl, this.groups.of(keys[0]), ...tokens),
    );
  }

  release(items: readonly DedupTokenedKey[]): Promise<void> {
    return this.perSlot(items, (keys, tokens) =>
      this.redis.dedupReleaseMany(keys.length, ...keys, ...tokens),
    );
  }

  private async perSlot(
    items: readonly DedupTokenedKey[],
    run: (keys: RedisKey[], tokens: string[]) => Promise<unknown>,
  ): Promise<void> {
    if (items.length === 0) return;
    const redisKeys = items.map((item) => this.redisKey(item.key));
    await Promise.all(
      groupBySlot(redisKeys, this.slotOf).map((group) =>
        run(
          group.map((i) => redisKeys[i]),
          group.map((i) => items[i].token),
        ),
      ),
    );
  }
}
