import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryDedupStore } from './memory.store';

const key = (id: string) => ({ scope: 'g/orders', id });

describe('MemoryDedupStore snapshots', () => {
  let dir: string;
  let now: number;
  const clock = (): number => now;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dedup-snapshot-'));
    now = 1_700_000_000_000;
  });

  function store(path: string, ttl = 60_000, maxEntries = 1_000): MemoryDedupStore {
    return new MemoryDedupStore(maxEntries, clock, { path, intervalMs: 0, ttl });
  }

  it('remembers the done ids across a restart, and forgets those expired meanwhile', async () => {
    const path = join(dir, 'dedup.snap');
    const first = store(path);
    first.commit(key('old'), 'x', 10_000);
    now += 5_000;
    for (let i = 0; i < 100; i++) first.commit(key(`e${i}`), 'x', 60_000);
    first.commit({ scope: 'g/orders', id: Buffer.from([0xff, 0x01]) }, 'x', 60_000);
    await first.close();

    now += 6_000; // 'old' has expired by now
    const second = store(path);
    expect(second.restored).toBe(101);
    expect(second.claim(key('e0'), 1_000)).toEqual({ status: 'duplicate' });
    expect(second.claim(key('e99'), 1_000)).toEqual({ status: 'duplicate' });
    expect(second.claim({ scope: 'g/orders', id: Buffer.from([0xff, 0x01]) }, 1_000)).toEqual({
      status: 'duplicate',
    });
    expect(second.claim({ scope: 'g/orders', id: Buffer.from([0xfe, 0x01]) }, 1_000)).toMatchObject(
      { status: 'claimed' },
    );
    expect(second.claim(key('old'), 1_000)).toMatchObject({ status: 'claimed' });
    expect(second.claim(key('new'), 1_000)).toMatchObject({ status: 'claimed' });
  });

  it('ignores (with a warning) a corrupt snapshot, or one from another maxEntries or ttl', async () => {
    const path = join(dir, 'dedup.snap');
    const first = store(path);
    first.commit(key('a'), 'x', 60_000);
    await first.close();
    expect(store(path, 30_000).restored).toBe(0);
    expect(store(path, 60_000, 2_000).restored).toBe(0);
    expect(store(path).restored).toBe(1);

    const bytes = readFileSync(path);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(path, bytes);
    expect(store(path).restored).toBe(0);
    writeFileSync(path, bytes.subarray(0, 20));
    expect(store(path).restored).toBe(0);
    writeFileSync(path, 'hello');
    expect(store(path).restored).toBe(0);
  });

  it('keeps the order and content of a ring that has wrapped around (evictions)', async () => {
    const path = join(dir, 'wrapped.snap');
    const first = store(path, 60_000, 10);
    for (let i = 0; i < 15; i++) first.commit(key(`w${i}`), 'x', 60_000);
    await first.close();
    const second = store(path, 60_000, 10);
    expect(second.restored).toBe(10);
    for (let i = 5; i < 15; i++) expect(second.claim(key(`w${i}`), 1_000).status).toBe('duplicate');
    for (let i = 0; i < 5; i++) expect(second.claim(key(`w${i}`), 1_000).status).toBe('claimed');
  });

  it('starts empty without a snapshot file', () => {
    expect(store(join(dir, 'absent.snap')).restored).toBe(0);
  });
});
