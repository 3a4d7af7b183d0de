import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import { DedupModule } from './dedup.module';
import { DedupService } from './dedup.service';
import { DUPLICATE } from './service/dedup.decision';
import { DedupInFlightTimeoutError, DedupStoreError } from './errors/dedup.errors';
import type { DedupModuleOptions } from './dedup.options';
import { MemoryDedupStore } from './stores/memory/memory.store';

async function service(options: DedupModuleOptions = {}): Promise<DedupService> {
  const moduleRef = await Test.createTestingModule({
    imports: [DedupModule.forRoot({ cleanupCron: false, ...options })],
  }).compile();
  return moduleRef.get(DedupService);
}

/** A store whose every operation fails, like Redis while it is down. */
class BrokenStore extends MemoryDedupStore {
  override peek(): never {
    throw new Error('connection refused');
  }
  override claim(): never {
    throw new Error('connection refused');
  }
  override markIfAbsent(): never {
    throw new Error('connection refused');
  }
}

const key = (id: string) => ({ scope: 'orders', id });

describe('DedupService', () => {
  beforeEach(() => register.clear());

  it('skips an id once its first processing committed', async () => {
    const dedup = await service();
    const first = await dedup.acquire(key('a'));
    expect(first.action).toBe('process');
    await dedup.commit(first);
    expect((await dedup.acquire(key('a'))).action).toBe('skip');
    expect((await dedup.acquire({ scope: 'payments', id: 'a' })).action).toBe('process');
  });

  it('processes the id again after a release (the handler failed)', async () => {
    const dedup = await service();
    const first = await dedup.acquire(key('a'));
    await dedup.release(first);
    expect((await dedup.acquire(key('a'))).action).toBe('process');
  });

  it('makes an in-flight duplicate wait, then skip when the first copy succeeds', async () => {
    const dedup = await service();
    const first = await dedup.acquire(key('a'));
    const second = dedup.acquire(key('a'));
    setTimeout(() => void dedup.commit(first), 50);
    expect((await second).action).toBe('skip');
  });

  it('makes an in-flight duplicate wait, then process when the first copy fails', async () => {
    const dedup = await service();
    const first = await dedup.acquire(key('a'));
    const second = dedup.acquire(key('a'));
    setTimeout(() => void dedup.release(first), 50);
    expect((await second).action).toBe('process');
  });

  it('throws the event back to Kafka when the copy is still in flight after inFlightWait', async () => {
    const dedup = await service({ leaseTtl: 10_000, inFlightWait: 100 });
    await dedup.acquire(key('a'));
    await expect(dedup.acquire(key('a'), { topic: 't' })).rejects.toBeInstanceOf(
      DedupInFlightTimeoutError,
    );
  });

  it("lets a crashed owner's lease expire so the redelivery is processed", async () => {
    const dedup = await service({ leaseTtl: 50, inFlightWait: 1_000 });
    await dedup.store.claim(key('a'), 50); // an owner that never commits nor releases
    expect((await dedup.acquire(key('a'))).action).toBe('process');
  });

  it('run() commits on success and releases on failure', async () => {
    const dedup = await service();
    await expect(dedup.run(key('x'), () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
    expect(await dedup.run(key('x'), () => 'done')).toBe('done');
    expect(await dedup.run(key('x'), () => 'again')).toBeUndefined();
  });

  it('processOrSkip() is true the first time an id is seen in a scope, false after', async () => {
    const dedup = await service();
    expect(await dedup.processOrSkip('evt-1')).toBe(true);
    expect(await dedup.processOrSkip('evt-1')).toBe(false);
    expect(await dedup.processOrSkip('evt-1', 'other-topic')).toBe(true);
  });

  it('processes without deduplication when the store fails and onStoreError is process', async () => {
    const dedup = await service({ store: new BrokenStore() });
    expect((await dedup.acquire(key('a'))).action).toBe('process-untracked');
    expect(await dedup.processOrSkip('a')).toBe(true);
  });

  it('throws DedupStoreError when the store fails and onStoreError is throw', async () => {
    const dedup = await service({ store: new BrokenStore(), onStoreError: 'throw' });
    await expect(dedup.acquire(key('a'))).rejects.toBeInstanceOf(DedupStoreError);
  });

  it('cleanup() sweeps expired ids', async () => {
    let now = 1_000;
    const store = new MemoryDedupStore(100, () => now);
    const dedup = await service({ store, ttl: 1_000 });
    for (const id of ['a', 'b', 'c']) await dedup.commit(await dedup.acquire(key(id)));
    expect(await dedup.size()).toBe(3);
    now += 1_001;
    expect((await dedup.cleanup()).removed).toBe(3);
    expect(await dedup.size()).toBe(0);
  });

  describe('execute() on a store that answers peek() (memory)', () => {
    /** Counts the claims the store records. */
    class CountingStore extends MemoryDedupStore {
      claims = 0;
      override claim(...args: Parameters<MemoryDedupStore['claim']>) {
        this.claims++;
        return super.claim(...args);
      }
    }

    it('runs a synchronous handler without a claim and remembers the id', async () => {
      const store = new CountingStore();
      const dedup = await service({ store });
      expect(dedup.execute(key('a'), () => 'done', 'orders')).toBe('done');
      expect(dedup.execute(key('a'), () => 'again', 'orders')).toBe(DUPLICATE);
      expect(store.claims).toBe(0);
    });

    it('remembers nothing when a synchronous handler throws: the redelivery is processed', async () => {
      const dedup = await service({ store: new CountingStore() });
      expect(() =>
        dedup.execute(key('a'), () => {
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(dedup.execute(key('a'), () => 'retried')).toBe('retried');
    });

    it('claims a handler that goes asynchronous before it yields: a copy waits for its outcome', async () => {
      const store = new CountingStore();
      const dedup = await service({ store });
      let finish!: () => void;
      const first = dedup.execute(
        key('a'),
        () => new Promise<string>((resolve) => (finish = () => resolve('first'))),
      );
      expect(store.claims).toBe(1);
      let copyRan = false;
      const copy = dedup.execute(key('a'), () => (copyRan = true)) as Promise<unknown>;
      setTimeout(finish, 30);
      expect(await first).toBe('first');
      expect(await copy).toBe(DUPLICATE);
      expect(copyRan).toBe(false);
    });

    it('releases an asynchronous handler that rejects: a waiting copy is processed', async () => {
      const dedup = await service({ store: new CountingStore() });
      const first = dedup.execute(key('a'), async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error('boom');
      }) as Promise<unknown>;
      const copy = dedup.execute(key('a'), () => 'copy') as Promise<unknown>;
      await expect(first).rejects.toThrow('boom');
      expect(await copy).toBe('copy');
    });

    it('applies onStoreError when peek() fails', async () => {
      const dedup = await service({ store: new BrokenStore() });
      expect(dedup.execute(key('a'), () => 'untracked')).toBe('untracked');
      const strict = await service({ store: new BrokenStore(), onStoreError: 'throw' });
      expect(() => strict.execute(key('a'), () => 'never')).toThrow(DedupStoreError);
    });
  });
});
