import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import { of } from 'rxjs';
import { DEDUP_METRICS } from '../../dedup.constants';
import { DedupModule } from '../../dedup.module';
import { DedupService } from '../../dedup.service';
import { DedupStoreError } from '../../errors/dedup.errors';
import type { DedupKey, TransactionOutcome } from '../../interfaces/dedup-key.interface';
import { DedupStore } from '../dedup.store';

/**
 * A transactional store faked over the memory store: the "transaction" commits the id only when
 * `fn` succeeds; `down` makes it fail like an unreachable database.
 */
class FakeInboxStore extends DedupStore {
  readonly name = 'postgres';
  readonly done = new Set<string>();
  down = false;
  transactions = 0;
  /** Whether each `fn` answered a Promise (the contract of runInTransaction). */
  readonly promises: boolean[] = [];

  // The lease protocol is never used when runInTransaction exists.
  claim(): never {
    throw new Error('not used');
  }
  commit(): never {
    throw new Error('not used');
  }
  release(): never {
    throw new Error('not used');
  }
  renew(): never {
    throw new Error('not used');
  }
  markIfAbsent(): never {
    throw new Error('not used');
  }
  size(): number {
    return this.done.size;
  }

  override async runInTransaction<T>(
    key: DedupKey,
    _ttl: number,
    fn: () => Promise<T>,
  ): Promise<TransactionOutcome<T>> {
    this.transactions++;
    if (this.down)
      throw new DedupStoreError('connect', this.name, { cause: new Error('ECONNREFUSED') });
    const id = `${key.scope}/${String(key.id)}`;
    if (this.done.has(id)) return { duplicate: true };
    const pending = fn();
    this.promises.push(pending instanceof Promise);
    const result = await pending; // a throw "rolls back": the id is not recorded
    this.done.add(id);
    return { duplicate: false, result };
  }
}

async function setup(): Promise<{ dedup: DedupService; store: FakeInboxStore }> {
  const store = new FakeInboxStore();
  const moduleRef = await Test.createTestingModule({
    imports: [DedupModule.forRoot({ cleanupCron: false, store })],
  }).compile();
  return { dedup: moduleRef.get(DedupService), store };
}

async function metric(name: string): Promise<number> {
  const values = (await register.getSingleMetric(name)?.get())?.values ?? [];
  return values.reduce((sum, v) => sum + v.value, 0);
}

describe('DedupService with a transactional (inbox) store', () => {
  beforeEach(() => register.clear());

  it('routes every deduplicated call through runInTransaction and counts processed and duplicates', async () => {
    const { dedup, store } = await setup();
    expect(await dedup.run('a', () => 'first')).toBe('first');
    expect(await dedup.run('a', () => 'second')).toBeUndefined();
    expect(store.transactions).toBe(2);
    expect(await metric(DEDUP_METRICS.processed)).toBe(1);
    expect(await metric(DEDUP_METRICS.deduplicated)).toBe(1);
  });

  it('passes a handler error through untouched and uncounted as a store error', async () => {
    const { dedup } = await setup();
    const failure = new Error('handler failed');
    await expect(
      dedup.run('b', () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await metric(DEDUP_METRICS.storeErrors)).toBe(0);
    expect(await dedup.run('b', () => 'retried')).toBe('retried');
  });

  it('throws a store failure (so Kafka redelivers) even with onStoreError: process, and counts it', async () => {
    const { dedup, store } = await setup();
    store.down = true;
    let ran = false;
    await expect(dedup.run('c', () => (ran = true))).rejects.toBeInstanceOf(DedupStoreError);
    expect(ran).toBe(false);
    expect(await metric(DEDUP_METRICS.storeErrors)).toBe(1);
  });

  it('hands the store a Promise whatever the handler answers: a value, a throw, a Promise, an Observable', async () => {
    const { dedup, store } = await setup();
    expect(await dedup.run('v', () => 'value')).toBe('value');
    await expect(
      dedup.run('t', () => {
        throw new Error('sync throw');
      }),
    ).rejects.toThrow('sync throw');
    const own = Promise.resolve('promise');
    expect(await dedup.run('p', () => own)).toBe('promise');
    expect(await dedup.run('o', () => of(1, 2, 'last'))).toBe('last');
    expect(store.promises).toEqual([true, true, true, true]);
  });
});
