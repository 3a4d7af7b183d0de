import { Injectable, Optional } from '@nestjs/common';
import {
  applyWhenDown,
  checkWhenDown,
  healthResult,
  type DegradableHealthResult,
  type HealthResult,
  type WhenDown,
} from '@nest-resilience/common';
import { DedupStore } from './stores/dedup.store';
import { PostgresInboxStore } from './stores/postgres/postgres-inbox.store';
import { RedisDedupStore } from './stores/redis/redis.store';
import { DedupWindow } from './dedup.window';
import { withWindow } from './window/window-health';

/** Options of {@link DedupHealthIndicator.isHealthy}. */
export interface DedupHealthCheckOptions {
  /**
   * How long the store may take to answer (ms, > 0).
   * @default 1000
   */
  timeoutMs?: number;
  /**
   * What an unreachable store reports. `'down'` fails the health check (terminus answers 503);
   * `'degraded'` only reports it: the check passes (200, overall status `degraded`), for an app
   * that can do its job without the store for a while (a probe must not then take it out of
   * rotation). `'degraded'` needs `@nestjs/terminus` ≥ 12 (11 leaves such a result out).
   * @default 'down'
   */
  whenDown?: WhenDown;
}

/**
 * {@link HealthResult} whose status may also be `degraded` (terminus ≥ 12: the check passes and
 * the overall status becomes `degraded`).
 */
export type DedupHealthResult<Key extends string = string> = DegradableHealthResult<Key>;

/**
 * `@nestjs/terminus` indicator of the dedup store (terminus itself is only needed by the app's
 * `HealthCheckService`): Redis answers `PING` within `timeoutMs`; PostgreSQL (inbox store) runs
 * `SELECT 1` within it; the memory store is always up (with its size). Every result carries the
 * dedup window (`windowSeconds`, `minWindowSeconds`, `windowReliable`), and a store whose window is
 * below `minWindowSeconds` is reported `degraded` (the check passes; terminus ≥ 12).
 *
 * @example
 * \@Get('health') \@HealthCheck()
 * check() { return this.health.check([() => this.dedupHealth.isHealthy()]); }
 * // reported, never failing the check:
 * () => this.dedupHealth.isHealthy('dedup-store', { whenDown: 'degraded' })
 */
@Injectable()
export class DedupHealthIndicator {
  constructor(
    private readonly store: DedupStore,
    @Optional() private readonly window?: DedupWindow,
  ) {}

  /**
   * The store's result under `key`: `{ status, store }`, and a `message` when it is down. A
   * number is `timeoutMs` (the older signature). A bad option throws, naming it and its value.
   */
  async isHealthy<const Key extends string = 'kafka-dedup'>(
    key: Key = 'kafka-dedup' as Key,
    options: number | DedupHealthCheckOptions = {},
  ): Promise<HealthResult<Key> | DedupHealthResult<Key>> {
    const { timeoutMs = 1_000, whenDown: given } =
      typeof options === 'number' ? { timeoutMs: options } : options;
    const whenDown = checkWhenDown('DedupHealthIndicator', given);
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0))
      throw new TypeError(
        `DedupHealthIndicator: timeoutMs must be a number > 0, got ${String(timeoutMs)}`,
      );
    const result = withWindow(key, await this.check(key, timeoutMs), this.window?.report());
    return applyWhenDown(key, result, whenDown);
  }

  private async check<Key extends string>(key: Key, timeoutMs: number): Promise<HealthResult<Key>> {
    const store = this.store.name;
    if (this.store instanceof PostgresInboxStore) {
      try {
        await withTimeout(this.store.ping(), timeoutMs);
        return healthResult(key, true, { store });
      } catch (error) {
        return healthResult(key, false, { store, message: (error as Error).message });
      }
    }
    if (!(this.store instanceof RedisDedupStore)) return healthResult(key, true, { store });
    const client = this.store.client;
    let onReady: (() => void) | undefined;
    try {
      // The store's client fails fast while (re)connecting; give it the timeout to get ready.
      const ready =
        client.status === 'ready'
          ? Promise.resolve()
          : new Promise<void>((resolve) => client.once('ready', (onReady = resolve)));
      await withTimeout(
        ready.then(() => client.ping()),
        timeoutMs,
      );
      return healthResult(key, true, { store });
    } catch (error) {
      const last = this.store.lastConnectionError;
      const message = (error as Error).message;
      return healthResult(key, false, {
        store,
        // The cause (WRONGPASS, a certificate) is only in the connection's own error.
        message:
          last && last !== error ? `${message} (last connection error: ${last.message})` : message,
      });
    } finally {
      if (onReady) client.off('ready', onReady);
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
