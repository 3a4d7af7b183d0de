import { MemoryDedupStore } from './memory.store';

describe('MemoryDedupStore', () => {
  it('claims once, reports in-flight to a second claimer, and duplicate after commit', () => {
    const store = new MemoryDedupStore(100);
    const key = { scope: 'users', id: 'e1' };
    const first = store.claim(key, 1_000);
    expect(first.status).toBe('claimed');
    expect(store.claim(key, 1_000).status).toBe('in-flight');
    store.commit(key, (first as { token: string }).token, 60_000);
    expect(store.claim(key, 1_000).status).toBe('duplicate');
    expect(store.claim({ scope: 'orders', id: 'e1' }, 1_000).status).toBe('claimed');
  });

  it('ignores a release by a token that no longer owns the claim', () => {
    let now = 0;
    const store = new MemoryDedupStore(100, () => now);
    const key = { scope: 's', id: 'e1' };
    const stale = store.claim(key, 100) as { token: string };
    now = 200; // the lease expired; someone else claims
    const fresh = store.claim(key, 100) as { status: string; token: string };
    expect(fresh.status).toBe('claimed');
    store.release(key, stale.token);
    expect(store.claim(key, 100).status).toBe('in-flight');
  });

  it('sweeps a large expired table in slices, yielding to the event loop between them', async () => {
    let now = 0;
    const store = new MemoryDedupStore(200_000, () => now);
    for (let i = 0; i < 200_000; i++) store.markIfAbsent({ scope: 's', id: `evt-${i}` }, 1_000);
    now = 2_000;
    let interleaved = false;
    setImmediate(() => (interleaved = true));
    const sweep = store.cleanup(1);
    expect(interleaved).toBe(false);
    const result = await sweep;
    expect(result.removed).toBe(200_000);
    expect(store.size()).toBe(0);
    // another macrotask ran while the sweep was under way: it never held the loop for all of it
    expect(interleaved).toBe(true);
  }, 30_000);
});
