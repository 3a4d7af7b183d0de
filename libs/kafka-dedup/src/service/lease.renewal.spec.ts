import type { ClaimResult, DedupKey } from '../interfaces/dedup-key.interface';
import { MemoryDedupStore } from '../stores/memory/memory.store';
import { LeaseGroup, LeaseRenewal } from './lease.renewal';
import type { StoreFailurePolicy } from './store-failure.policy';

const key = (id: string): DedupKey => ({ scope: 't', id });

describe('LeaseRenewal', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function setup() {
    const store = new MemoryDedupStore(1_000);
    const renewed: string[][] = [];
    const renew = store.renew.bind(store);
    store.renew = (claims, leaseTtl) => {
      renewed.push(claims.map((c) => String(c.key.id)));
      return renew(claims, leaseTtl);
    };
    const leases = new LeaseRenewal(store, 3_000, {} as StoreFailurePolicy);
    return { store, renewed, leases };
  }

  it('renews the claimed ids of a group, chunk by chunk, until the group is dropped', () => {
    const { store, renewed, leases } = setup();
    const keys = [key('a'), key('b'), key('c')];
    const results = store.claimMany(keys, 3_000) as ClaimResult[];
    const group = new LeaseGroup();
    leases.holdGroup(group);
    group.chunks.push({ keys, results });
    group.chunks.push({ keys: [key('d')], results: [{ status: 'duplicate' }] });
    jest.advanceTimersByTime(1_000);
    expect(renewed).toEqual([['a', 'b', 'c']]);
    // Held for the whole lease again: a claim past its first lease still blocks a copy.
    jest.advanceTimersByTime(2_500);
    expect((store.claim(key('b'), 3_000) as { status: string }).status).toBe('in-flight');
    leases.dropGroup(group);
    jest.advanceTimersByTime(1_000);
    expect(renewed).toHaveLength(3);
    leases.stop();
  });

  it('renews single holds beside groups, and stops renewing what was unheld', () => {
    const { store, renewed, leases } = setup();
    const claim = store.claim(key('x'), 3_000) as { token: string };
    leases.hold(key('x'), claim.token);
    jest.advanceTimersByTime(1_000);
    leases.unhold(claim.token);
    jest.advanceTimersByTime(1_000);
    expect(renewed).toEqual([['x']]);
    leases.stop();
  });
});
