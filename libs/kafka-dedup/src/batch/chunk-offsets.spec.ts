import { ChunkOffsets } from './chunk-offsets';

function setup(every: number | undefined) {
  const resolved: string[] = [];
  const commits: unknown[] = [];
  const payload = {
    resolveOffset: (offset: string) => void resolved.push(offset),
    commitOffsetsIfNecessary: async (offsets?: unknown) => void commits.push(offsets),
  };
  const last = new Map<string, number>();
  return { resolved, commits, last, make: () => new ChunkOffsets(payload, 't', 2, every, last) };
}

describe('ChunkOffsets', () => {
  it('resolves each offset once', () => {
    const t = setup(1_000);
    const offsets = t.make();
    offsets.resolve('4');
    offsets.resolve('4');
    offsets.resolve('9');
    expect(t.resolved).toEqual(['4', '9']);
  });

  it('commits the next offset of the partition once the last commit is commitEveryMs old', async () => {
    const t = setup(1_000);
    const offsets = t.make();
    offsets.resolve('9');
    await offsets.commitIfDue(); // the first chunk starts the clock
    expect(t.commits).toEqual([]);
    t.last.set('t\u00002', Date.now() - 1_000);
    await offsets.commitIfDue();
    expect(t.commits).toEqual([
      { topics: [{ topic: 't', partitions: [{ partition: 2, offset: '10' }] }] },
    ]);
    await offsets.commitIfDue();
    expect(t.commits).toHaveLength(1);
  });

  it('does not hold the batch up: one commit on its way at a time, its failure thrown at the next step', async () => {
    const calls: Array<() => void> = [];
    const fail = new Error('rebalancing');
    let rejectNext = false;
    const payload = {
      resolveOffset: () => undefined,
      commitOffsetsIfNecessary: () =>
        new Promise<void>((resolve, reject) =>
          calls.push(rejectNext ? () => reject(fail) : resolve),
        ),
    };
    const last = new Map([['t\u00002', 0]]);
    const offsets = new ChunkOffsets(payload, 't', 2, 1_000, last);
    offsets.resolve('3');
    await offsets.commitIfDue(); // started, not awaited
    expect(calls).toHaveLength(1);
    last.set('t\u00002', 0);
    await offsets.commitIfDue(); // the first one is still on its way: none more
    expect(calls).toHaveLength(1);
    calls[0]();
    await offsets.settle();
    rejectNext = true;
    last.set('t\u00002', 0);
    await offsets.commitIfDue();
    calls[1]();
    await expect(offsets.settle()).rejects.toBe(fail);
    await expect(offsets.settle()).resolves.toBeUndefined(); // thrown once
  });

  it('never commits mid-batch with autoCommit off', async () => {
    const t = setup(undefined);
    const offsets = t.make();
    offsets.resolve('1');
    t.last.set('t\u00002', 0);
    await offsets.commitIfDue();
    expect(t.commits).toEqual([]);
  });
});
