import { Logger, type OnModuleInit } from '@nestjs/common';
import { DedupStoreError } from '../../errors/dedup.errors';
import type { ClaimResult, DedupKey, DedupTokenedKey } from '../../interfaces/dedup-key.interface';
import { RateLimitedLogger } from '../../logging/rate-limited-logger';
import { DedupStore } from '../dedup.store';
import {
  countKeys,
  createRedisClient,
  isCluster,
  loadSlotFunction,
  type RedisLike,
} from './redis-client';
import type { DedupRedisOptions, RedisLayout } from './redis-options';
import { RedisConnectionWatch } from './redis-connection';
import { probeDuplicateAge } from './redis-duplicate-age';
import { checkRedisEvictionPolicy, type RedisEvictionPolicy } from './redis-eviction-policy';
import { OwnerLiveness } from './redis-owner';
import { FREE_VALUE, layoutScripts } from './layout-v2.scripts';
import {
  bucketMs,
  checkGroupEncoding,
  GroupPrefixes,
  layoutParams,
  shardsPerPrefix,
} from './redis-layout';
import { RedisIdArgs } from './redis-id-args';
import { RedisWriteBatcher } from './redis-write-batcher';
import { RedisCommitQueue } from './redis-commit-queue';
import { RedisSlotBatches } from './redis-slot-batches';
import { groupBySlot } from './slot-groups';
import { defineDedupCommands, DONE, type DedupCommands, type RedisKey } from './redis.scripts';

/** Default of `redis.ownerTtl`. */
const OWNER_TTL = 5_000;
/** Default of `redis.startupTimeout`. */
const STARTUP_TIMEOUT = 5_000;
/** The window when the module does not say (the default `ttl`). */
const WINDOW = 3_600_000;

/**
 * Shared store for many replicas (standalone Redis or Redis Cluster): an atomic claim
 * (`SET key token NX PX lease`, after a look at the done ids), commit and release by
 * compare-and-set on the owner token (Lua), a done record living for the TTL: a fingerprint in a
 * group (`redis.layout: 'v2'`), the key itself (`'v1'`) or both (`'dual'`), see
 * `layout-v2.scripts.ts`.
 *
 * - One blocking round trip per message: `claim` waits for Redis; `commit` is written to the
 *   connection at once but not awaited, so the next message's claim follows it on the same
 *   connection (Redis applies them in order; a copy of the id arriving next sees it done).
 * - A claim whose owner process is gone (its liveness record, refreshed every `ownerTtl / 3`, has
 *   expired) is taken over at once instead of after the whole lease.
 * - Batches (`claimMany`, `commitMany`, `releaseMany`) run one script per hash slot.
 * - At bootstrap the store checks that Redis answers and accepts its credentials, and fails the
 *   start naming the cause (unless `allowDegradedStart`).
 *
 * ioredis is an optional peer, loaded when this store is built.
 *
 * ~390 lines, one cohesive protocol: the per-message claim and the commit that rides on the next
 * claim share the pending-commit state, so they stay in one class; the scripts, connection watch,
 * owner liveness, write batching, slot grouping and the eviction-policy check live beside it.
 */
export class RedisDedupStore extends DedupStore implements OnModuleInit {
  readonly name = 'redis';
  private readonly logger = new Logger('KafkaDedup');
  private readonly warnings = new RateLimitedLogger(this.logger);
  private readonly redis: RedisLike & DedupCommands;
  private readonly owned: boolean;
  private readonly prefix: string;
  private readonly connection: RedisConnectionWatch;
  private readonly owner: OwnerLiveness;
  private readonly slotOf?: (key: RedisKey) => number;
  private readonly startupTimeout: number;
  private readonly allowDegradedStart: boolean;
  private readonly allowEvictingPolicy: boolean;
  private readonly layout: RedisLayout;
  /** The layout's script arguments (fingerprints, group prefixes, buckets, lease deadlines). */
  private readonly args: RedisIdArgs;
  /** The TTL of the last commit: a `v2` hit's age is turned into the remaining ms with it. */
  private lastTtl = 0;
  /** Eviction settings read at bootstrap; undefined when Redis did not answer then. */
  evictionPolicy?: RedisEvictionPolicy;
  /** Called with the ms a caught duplicate's original still had to live (its `PTTL`). */
  onDuplicate?: (remainingMs: number) => void;
  private readonly writes: RedisWriteBatcher;
  private readonly commits: RedisCommitQueue;
  private readonly batches: RedisSlotBatches;
  private readonly onCommitFailed = (error: unknown, commits = 1): void => {
    this.backgroundErrors += commits;
    this.warnings.warn(
      'commit',
      `redis store failed during commit: ${describe(this.connection.annotate(error))} — the id is not remembered; a later copy may be processed again`,
    );
  };
  /** Commits (sent without waiting for the answer) that failed, since start. */
  backgroundErrors = 0;
  /** In-flight claims taken over from an owner that was gone, since start. */
  takeovers = 0;

  /**
   * @param windowMs the longest TTL the store will be given (`ttl`, or `adaptiveTtl.max`): sets the
   * `v2` bucket length and how far back a claim looks. Replicas sharing a key prefix must agree.
   */
  constructor(options: DedupRedisOptions = {}, windowMs = WINDOW) {
    super();
    this.prefix = options.keyPrefix ?? 'kafka-dedup:';
    this.startupTimeout = options.startupTimeout ?? STARTUP_TIMEOUT;
    this.allowDegradedStart = options.allowDegradedStart ?? false;
    this.allowEvictingPolicy = options.allowEvictingPolicy ?? false;
    this.layout = options.layout ?? 'v1';
    const { client, owned } = createRedisClient(options);
    this.owned = owned;
    this.connection = new RedisConnectionWatch(client, (error) => {
      if (this.owned) this.warnings.warn('connection', `Redis: ${describe(error)}`);
    });
    const cluster = isCluster(client);
    if (cluster) this.slotOf = loadSlotFunction();
    const bucket = bucketMs(windowMs);
    this.owner = new OwnerLiveness(client, this.prefix, options.ownerTtl ?? OWNER_TTL);
    this.args = new RedisIdArgs(
      this.layout,
      // v1 has no groups: no hash-tag table to build.
      new GroupPrefixes(this.prefix, bucket, this.layout === 'v1' ? undefined : this.slotOf),
      shardsPerPrefix(cluster),
      bucket,
      windowMs,
      () => client.time(),
      () => this.owner.lastToken,
    );
    if (this.args.compact) {
      client.on('ready', () => void this.args.syncClock());
    }
    this.redis = defineDedupCommands(client, layoutScripts(layoutParams(this.layout, windowMs)));
    this.writes = new RedisWriteBatcher(client);
    this.commits = new RedisCommitQueue(this.redis, this.args, this.onCommitFailed);
    this.batches = new RedisSlotBatches(this.redis, this.args, this.slotOf, (key) =>
      this.redisKey(key),
    );
    this.owner.start();
  }

  /** The ioredis client (`Redis` or `Cluster`), e.g. for health checks. */
  get client(): RedisLike {
    return this.redis;
  }

  /** The last connection error since the client was last ready (e.g. `WRONGPASS …`). */
  get lastConnectionError(): Error | undefined {
    return this.connection.lastError;
  }

  /**
   * Bootstrap check: Redis must answer `PING` (connected, authenticated, certificate trusted) and
   * run the store's scripts on its key prefix (ACL permissions) within `startupTimeout`, or the
   * start fails with a {@link DedupStoreError} naming the cause.
   */
  async onModuleInit(): Promise<void> {
    try {
      await this.connection.check(this.startupTimeout);
      // The store's own scripts and key prefix must be allowed too (an ACL user may lack them):
      // a release of a key nobody holds reads one key and writes nothing.
      await this.connection.within(
        this.redis.dedupRelease(`${this.prefix}_startup-check`, '-'),
        this.startupTimeout,
        'the startup check script',
      );
    } catch (error) {
      const failure = new DedupStoreError('startup check', this.name, {
        cause: error,
        lastConnectionError: this.connection.lastError,
      });
      if (!this.allowDegradedStart) {
        await this.close();
        throw failure;
      }
      this.logger.warn(
        `${failure.message} — starting anyway (redis.allowDegradedStart); onStoreError applies until Redis answers`,
      );
      return;
    }
    try {
      this.evictionPolicy = await checkRedisEvictionPolicy(
        this.redis,
        this.allowEvictingPolicy,
        (promise, what) => this.connection.within(promise, this.startupTimeout, what),
        this.logger,
        this.layout,
      );
    } catch (error) {
      await this.close();
      throw error;
    }
    if (this.layout !== 'v1') {
      if (!(await this.args.syncClock())) {
        // Buckets and lease deadlines then follow this host's clock: replicas whose clocks differ
        // by more than a lease may take over each other's live claims.
        this.logger.warn(
          `redis store: could not read Redis' clock (TIME) at bootstrap; layout '${this.layout}' reckons its buckets and lease deadlines by this host's clock until it can (keep the replicas' clocks in sync)`,
        );
      }
      await checkGroupEncoding(
        this.redis,
        (promise, what) => this.connection.within(promise, this.startupTimeout, what),
        this.logger,
      );
    }
  }

  async claim(key: DedupKey, leaseTtl: number): Promise<ClaimResult> {
    const redisKey = this.redisKey(key);
    const token = this.owner.token();
    try {
      let current: string | number | null;
      let bucket: number;
      this.writes.sending();
      try {
        if (this.commits.empty) {
          const args: Array<RedisKey | number> = [redisKey];
          bucket = this.args.head(args, redisKey);
          args.push(leaseTtl);
          this.args.claimId(args, key, token, leaseTtl);
          current = await this.redis.dedupClaim(...args);
        } else {
          const answer = this.commits.thenClaim(key, redisKey, token, leaseTtl);
          bucket = this.commits.bucket;
          current = await answer;
        }
      } finally {
        this.writes.answered();
      }
      if (current === null) return { status: 'claimed', token };
      if (typeof current === 'number') {
        this.groupHit(current, bucket);
        return DUPLICATE;
      }
      if (current === DONE) {
        probeDuplicateAge(this.redis, redisKey, this.onDuplicate);
        return DUPLICATE;
      }
      return await this.inFlight(redisKey, key, current, token, leaseTtl);
    } catch (error) {
      throw this.connection.annotate(error);
    }
  }

  /**
   * Not awaited: the commit is queued and rides in the same script as the next claim (one round
   * trip per message), or is sent at the end of this event-loop turn when no claim comes first
   * (on a cluster it is sent at once: the two keys may live in different slots). Redis applies it
   * before any later claim from this process. A failure is counted ({@link backgroundErrors}) and
   * logged (rate-limited).
   */
  commit(key: DedupKey, token: string, ttl: number): void {
    this.lastTtl = ttl;
    if (this.slotOf !== undefined) {
      const redisKey = this.redisKey(key);
      const args: Array<RedisKey | number> = [redisKey];
      this.args.head(args, redisKey);
      args.push(ttl);
      this.args.commitId(args, key, token);
      this.redis.dedupCommit(...args).catch(this.onCommitFailed);
      return;
    }
    this.commits.add(key, this.redisKey(key), token, ttl);
  }

  async release(key: DedupKey, token: string): Promise<void> {
    try {
      await this.redis.dedupRelease(this.redisKey(key), token);
    } catch (error) {
      throw this.connection.annotate(error);
    }
  }

  async renew(claims: readonly DedupTokenedKey[], leaseTtl: number): Promise<void> {
    await this.batches.renew(claims, leaseTtl);
  }

  override async claimMany(keys: readonly DedupKey[], leaseTtl: number): Promise<ClaimResult[]> {
    const results: ClaimResult[] = keys.map(() => IN_FLIGHT);
    if (keys.length === 0) return results;
    const redisKeys = keys.map((key) => this.redisKey(key));
    const tokens = keys.map(() => this.owner.token());
    const foreign: number[] = [];
    try {
      await Promise.all(
        groupBySlot(redisKeys, this.slotOf).map(async (group) => {
          const args: Array<RedisKey | number> = [group.length];
          for (const i of group) args.push(redisKeys[i]);
          const bucket = this.args.head(args, redisKeys[group[0]]);
          args.push(leaseTtl);
          this.args.claimIds(args, keys, tokens, group, leaseTtl);
          const answers = await this.redis.dedupClaimMany(...args);
          for (let g = 0; g < group.length; g++) {
            const i = group[g];
            const current = answers[g];
            if (current === 0) results[i] = { status: 'claimed', token: tokens[i] };
            else if (typeof current === 'number') {
              results[i] = DUPLICATE;
              this.groupHit(current, bucket);
            } else {
              const held = String(current);
              if (held === DONE) {
                results[i] = DUPLICATE;
                probeDuplicateAge(this.redis, redisKeys[i], this.onDuplicate);
              } else {
                results[i] = IN_FLIGHT;
                // Another owner's, or ours with its lease run out (a v2 claim says when).
                if (!held.startsWith(this.owner.id) || this.args.leaseOver(held)) foreign.push(i);
              }
            }
          }
        }),
      );
      // Rare: copies held by another process; take over those whose owner is gone.
      for (const i of foreign) {
        const current = await this.redis.get(redisKeys[i]);
        if (current !== null && current !== DONE) {
          results[i] = await this.inFlight(redisKeys[i], keys[i], current, tokens[i], leaseTtl);
        }
      }
    } catch (error) {
      throw this.connection.annotate(error);
    }
    return results;
  }

  override async commitMany(items: readonly DedupTokenedKey[], ttl: number): Promise<void> {
    this.lastTtl = ttl;
    try {
      await this.batches.commit(items, ttl);
    } catch (error) {
      throw this.connection.annotate(error);
    }
  }

  override async releaseMany(items: readonly DedupTokenedKey[]): Promise<void> {
    try {
      await this.batches.release(items);
    } catch (error) {
      throw this.connection.annotate(error);
    }
  }

  async markIfAbsent(key: DedupKey, ttl: number): Promise<boolean> {
    const redisKey = this.redisKey(key);
    const args: Array<RedisKey | number> = [redisKey];
    this.args.head(args, redisKey);
    args.push(ttl);
    this.args.markId(args, key);
    try {
      return (await this.redis.dedupMark(...args)) === 1;
    } catch (error) {
      throw this.connection.annotate(error);
    }
  }

  /**
   * Counts this prefix's keys with SCAN (on every master of a cluster): for diagnostics only. With
   * the `v2` layout a group of many ids counts once.
   */
  size(): Promise<number> {
    return countKeys(this.redis, this.prefix);
  }

  // No cleanup(): Redis expires the records itself (PX on every key, a TTL on every group).

  /**
   * Deletes this process's liveness record (claims it still holds may be taken over at once) and
   * quits the client the store created; an injected client is left to its owner.
   */
  override async close(): Promise<void> {
    this.commits.flush();
    this.args.stop();
    await this.owner.stop();
    this.warnings.flush();
    this.connection.detach();
    if (!this.owned) return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  /**
   * A `v2` group answered (`hit`: 1 the current bucket's, 2 the previous one's, of the claim's
   * `bucket`): the time since that bucket began is at least the original's age. Handed on as the
   * ms left of the last commit's TTL, so the window's age (`ttl - remaining`, with the largest TTL
   * in force) is never under it; before any commit, as 0 left.
   */
  private groupHit(hit: number, bucket: number): void {
    if (this.onDuplicate === undefined) return;
    this.onDuplicate(Math.max(0, this.lastTtl - this.args.hitAge(hit, bucket)));
  }

  /**
   * An in-flight claim held by `held`: taken over when its owner is gone, when its lease deadline
   * (`v2` claims) has passed, or when it was released (`free`; a `v1` process of this version
   * meets it only after a rollback from `v2`).
   */
  private async inFlight(
    redisKey: RedisKey,
    key: DedupKey,
    held: string,
    token: string,
    leaseTtl: number,
  ): Promise<ClaimResult> {
    if (held !== FREE_VALUE && !this.args.leaseOver(held) && (await this.owner.isAlive(held))) {
      return IN_FLIGHT;
    }
    const args: Array<RedisKey | number> = [redisKey];
    this.args.takeover(args, redisKey, key, held, token, leaseTtl);
    if ((await this.redis.dedupTakeover(...args)) !== 1) return IN_FLIGHT;
    this.takeovers++;
    return { status: 'claimed', token };
  }

  private redisKey(key: DedupKey): RedisKey {
    if (typeof key.id === 'string') return `${this.prefix}${key.scope}:${key.id}`;
    return Buffer.concat([Buffer.from(`${this.prefix}${key.scope}:`), key.id]);
  }
}

const DUPLICATE: ClaimResult = { status: 'duplicate' };
const IN_FLIGHT: ClaimResult = { status: 'in-flight' };

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const last = (error as { lastConnectionError?: Error } | undefined)?.lastConnectionError;
  return last ? `${message} (last connection error: ${last.message})` : message;
}
