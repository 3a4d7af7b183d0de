import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { DedupStore } from './stores/dedup.store';
import { RedisDedupStore } from './stores/redis.store';

/**
 * `@nestjs/terminus` indicator of the dedup store: Redis answers `PING` within `timeoutMs`; the
 * memory store is always up (with its size).
 *
 * @example
 * \@Get('health') \@HealthCheck()
 * check() { return this.health.check([() => this.dedupHealth.isHealthy()]); }
 */
@Injectable()
export class DedupHealthIndicator {
  constructor(
    private readonly store: DedupStore,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async isHealthy<const Key extends string = 'kafka-dedup'>(
    key: Key = 'kafka-dedup' as Key,
    timeoutMs = 1_000,
  ): Promise<HealthIndicatorResult<Key>> {
    const session = this.indicators.check(key);
    const store = this.store.name;
    if (!(this.store instanceof RedisDedupStore)) return session.up({ store });
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
      return session.up({ store });
    } catch (error) {
      return session.down({ store, message: (error as Error).message });
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
