import type { LoggerService } from '@nestjs/common';
import { isCluster, type RedisLike } from './redis-client';
import { RING, type LayoutScriptParams } from './layout-v2.scripts';
import type { RedisLayout } from './redis-options';

/** Groups per time bucket: 2^15 (on a cluster, 2 per hash slot). @internal */
export const GROUP_SHARDS = 32_768;
/** Cluster hash slots. @internal */
export const SLOTS = 16_384;
/** Redis' default `set-max-intset-entries`: a group above it stops being an intset. */
export const INTSET_ENTRIES = 512;

/**
 * Bucket length for a window: at least the window (so a claim looks at 2 groups), rounded up to
 * 2^k x 1, 1.25, 1.5 or 1.75 ms (at most 25% above it) so that replicas whose TTLs differ a little
 * still share buckets. @internal
 */
export function bucketMs(windowMs: number): number {
  const w = Math.max(1, Math.ceil(windowMs));
  const power = 2 ** Math.floor(Math.log2(w));
  for (const step of [1, 1.25, 1.5, 1.75, 2]) {
    const bucket = Math.ceil(power * step);
    if (bucket >= w) return bucket;
  }
  return 2 * power;
}

/** The script settings of a store. @internal */
export function layoutParams(layout: RedisLayout, windowMs: number): LayoutScriptParams {
  return { layout, bucketMs: bucketMs(windowMs), windowMs };
}

/** Group shards per group prefix: 32,768 on a standalone Redis, 2 per hash slot on a cluster. */
export function shardsPerPrefix(cluster: boolean): number {
  return cluster ? GROUP_SHARDS / SLOTS : GROUP_SHARDS;
}

/**
 * The group key prefix of a claim key: `<prefix>v2:<bucketMs>:` on a standalone Redis; on a
 * cluster `<prefix>v2:{<tag>}:<bucketMs>:` with a hash tag of the claim key's own slot, so one
 * script reaches the claim and its groups (the tag table is built once, ~50 ms; the prefixes per
 * slot on first use). @internal
 */
export class GroupPrefixes {
  private readonly plain: string;
  private readonly bySlot: string[] = [];
  private readonly tags?: string[];

  constructor(
    private readonly keyPrefix: string,
    private readonly bucket: number,
    private readonly slotOf?: (key: string | Buffer) => number,
  ) {
    this.plain = `${keyPrefix}v2:${bucket}:`;
    if (slotOf !== undefined) this.tags = slotTags(slotOf);
  }

  /** The hash slot of the last key given to {@link of} (0 on a standalone Redis). */
  slot = 0;

  of(key: string | Buffer): string {
    if (this.slotOf === undefined) return this.plain;
    const slot = (this.slot = this.slotOf(key));
    return (this.bySlot[slot] ??= `${this.keyPrefix}v2:{${this.tags![slot]}}:${this.bucket}:`);
  }

  /**
   * The prefix of the groups of `bucket` in `key`'s slot, `<of(key)><bucket % RING>:` (the scripts
   * add the shard): built once per slot and ring position.
   */
  ofBucket(key: string | Buffer, bucket: number): string {
    const prefix = this.of(key);
    const at = this.slot * RING + (bucket % RING);
    return (this.byBucket[at] ??= `${prefix}${bucket % RING}:`);
  }

  private readonly byBucket: string[] = [];
}

/** For each slot, a short hash tag that lands in it. */
function slotTags(slotOf: (key: string) => number): string[] {
  const tags: Array<string | undefined> = Array.from({ length: SLOTS });
  let missing = SLOTS;
  for (let n = 0; missing > 0; n++) {
    const tag = n.toString(36);
    const slot = slotOf(tag);
    if (tags[slot] === undefined) {
      tags[slot] = tag;
      missing--;
    }
  }
  return tags as string[];
}

/**
 * Bootstrap check of the `v2` groups' encoding: `set-max-intset-entries` (every master of a
 * cluster). Below Redis' default a busy bucket's groups outgrow it and turn into hash tables
 * (~5x the memory): a warning says so. `CONFIG` refused: nothing said (the eviction check has
 * warned already). @internal
 */
export async function checkGroupEncoding(
  client: RedisLike,
  within: <T>(promise: Promise<T>, what: string) => Promise<T>,
  logger: Pick<LoggerService, 'warn'>,
): Promise<void> {
  const nodes = isCluster(client) ? client.nodes('master') : [client];
  for (const node of nodes) {
    let answer: unknown;
    try {
      answer = await within(
        node.config('GET', 'set-max-intset-entries'),
        'CONFIG GET set-max-intset-entries',
      );
    } catch {
      continue;
    }
    const value = Number(Array.isArray(answer) ? answer[1] : Object.values(answer ?? {})[0]);
    if (!Number.isFinite(value) || value >= INTSET_ENTRIES) continue;
    const name = `${node.options.host ?? '?'}:${node.options.port ?? '?'}`;
    logger.warn(
      `redis store: set-max-intset-entries is ${value} on ${name} (default ${INTSET_ENTRIES}): groups of more than ${value} ids ` +
        `(above ${value * GROUP_SHARDS} ids per bucket) lose the compact encoding and take ~5x the memory — set it to ${INTSET_ENTRIES} or more`,
    );
  }
}
