import { spreadCopies } from './scale-out.part';

describe('spreadCopies', () => {
  it('puts originals round-robin on 3 partitions and each copy on the next partition', () => {
    const r = (v: string) => ({ key: 'k', value: v });
    const placed = spreadCopies([r('a'), r('b'), r('c'), r('d'), r('a'), r('c')]);
    expect(placed.map((p) => p.partition)).toEqual([0, 1, 2, 0, 1, 0]);
  });
});
