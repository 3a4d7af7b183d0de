import { Injectable, Optional } from '@nestjs/common';
import { healthResult, type HealthResult } from './peers/health-result';
import { DedupStore } from './stores/dedup.store';
import { PostgresInboxStore } from './stores/postgres/postgres-inbox.store';
import { RedisDedupStore } from './stores/redis.store';
import { DedupWindow } from './window/dedup-window';
import { withWindow } from './window/window-health';

/**
 * `@nestjs/terminus` indicator of the dedup store (terminus itself is only needed by the app's
 * `HealthCheckService`): Redis answers `PING` within `timeoutMs`; PostgreSQL (inbox store) runs
 * `SELECT 1` within it; the memory store is always up (with its size). Every result carries the
 * dedup window (`windowSeconds`, `minWindowSeconds`, `windowReliable`), and a store whose window is
 * below `minWindowSeconds` is reported down.
 *
 * @example
 * \@Get('health') \@HealthCheck()
 * check() { return this.health.check([() => this.dedupHealth.isHealthy()]); }
 */
@Injectable()
export class DedupHealthIndicator {
  constructor(
    private readonly store: DedupStore,
    @Optional() private readonly window?: DedupWindow,
  ) {}

  async isHealthy<const Key extends string = 'kafka-dedup'>(
    key: Key = 'kafka-dedup' as Key,
    timeoutMs = 1_000,
  ): Promise<HealthResult<Key>> {
    return withWindow(key, await this.storeHealth(key, timeoutMs), this.window?.report());
  }

  private async storeHealth<const Key extends string>(
    key: Key,
    timeoutMs: number,
  ): Promise<HealthResult<Key>> {
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
