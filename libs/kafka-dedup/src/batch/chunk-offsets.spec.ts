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

  it('never commits mid-batch with autoCommit off', async () => {
    const t = setup(undefined);
    const offsets = t.make();
    offsets.resolve('1');
    t.last.set('t\u00002', 0);
    await offsets.commitIfDue();
    expect(t.commits).toEqual([]);
  });
});
