import { groupBySlot } from './slot-groups';

describe('groupBySlot', () => {
  it('puts every key in one group without a cluster', () => {
    expect(groupBySlot(['a', 'b', 'c'], undefined)).toEqual([[0, 1, 2]]);
  });

  it('groups indices by slot, keeping order inside each group', () => {
    const slot = (key: string): number => key.charCodeAt(0) % 2;
    expect(groupBySlot(['a', 'b', 'c', 'd', 'e'], slot)).toEqual([
      [0, 2, 4],
      [1, 3],
    ]);
  });
});
