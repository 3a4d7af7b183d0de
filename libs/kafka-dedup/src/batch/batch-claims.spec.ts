import type { DedupService } from '../dedup.service';
import type { ClaimResult, DedupKey } from '../interfaces/dedup-key.interface';
import { MemoryDedupStore } from '../stores/memory/memory.store';
import { BatchClaims, type BatchSlot } from './batch-claims';

/** The part of DedupService BatchClaims uses, on a real memory store, recording each call. */
function service(store = new MemoryDedupStore(10_000)) {
  const calls: number[] = [];
  const counts = { claimed: 0, duplicates: 0 };
  const fake = {
    claimBatch: async (keys: DedupKey[]): Promise<ClaimResult[]> => {
      calls.push(keys.length);
      await new Promise((r) => setTimeout(r, 1));
      return store.claimMany(keys, 30_000) as ClaimResult[];
    },
    openLeaseGroup: () => ({ chunks: [] }),
    closeLeaseGroup: () => undefined,
    countBatch: (_topic: string, claimed: number, duplicates: number) => {
      counts.claimed += claimed;
      counts.duplicates += duplicates;
    },
  };
  return { fake: fake as unknown as DedupService, calls, counts, store };
}

function slots(n: number): Array<BatchSlot & { pre: boolean }> {
  return Array.from({ length: n }, () => ({
    pre: false as boolean,
    preClaim() {
      this.pre = true;
    },
  }));
}

const key = (i: number): DedupKey => ({ scope: 't', id: `id-${i}` });

describe('BatchClaims', () => {
  it('claims a large batch in chunks of 500, the next two while the first is processed', async () => {
    const { fake, calls, counts } = service();
    const batch = slots(1_200);
    const owners = batch.map((_, i) => i);
    const claims = new BatchClaims(fake, 't', batch, owners.map(key), owners);
    expect(calls).toEqual([500, 500]); // two chunks on their way before any handler runs
    await claims.ready(0);
    expect(calls).toEqual([500, 500, 200]); // the third is on its way once the first is applied
    expect(batch[499].claim).toBeDefined();
    expect(batch[500].claim).toBeUndefined();
    await claims.ready(1_199);
    expect(calls).toEqual([500, 500, 200]);
    expect(batch.every((s) => s.claim !== undefined && s.pre)).toBe(true);
    expect(counts).toEqual({ claimed: 1_200, duplicates: 0 });
  });

  it('marks ids already done as duplicates, and leaves slots that are not owners alone', async () => {
    const { fake, store } = service();
    const done = store.claim(key(1), 30_000) as { token: string };
    store.commit(key(1), done.token, 60_000);
    const batch = slots(3);
    // slot 1 is a copy / a request: no key of its own
    const claims = new BatchClaims(fake, 't', batch, [key(0), key(1)], [0, 2]);
    await claims.ready(2);
    expect(batch[0].claim).toBeDefined();
    expect(batch[1].claim).toBeUndefined();
    expect(batch[2].skip).toBe(true);
  });

  it('hands back the claims of a chunk still in flight when the batch stops early', async () => {
    const { fake } = service();
    const batch = slots(1_300);
    const owners = batch.map((_, i) => i);
    const claims = new BatchClaims(fake, 't', batch, owners.map(key), owners);
    await claims.ready(10); // first chunk applied, the next two in flight
    const unused = await claims.drain();
    expect(unused).toHaveLength(800);
    expect(unused[0].key).toEqual(key(500));
    expect(unused[799].key).toEqual(key(1_299));
  });
});
