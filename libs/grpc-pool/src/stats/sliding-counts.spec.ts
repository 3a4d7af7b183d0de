import { SlidingCounts } from './sliding-counts';

describe('SlidingCounts', () => {
  let now = 0;
  const counts = (): SlidingCounts => new SlidingCounts(1_000, () => now);

  beforeEach(() => {
    now = 0;
  });

  it('keeps both totals over the window and drops each bucket as it slides out', () => {
    const c = counts();
    c.add(3, 1); // bucket [0, 100)
    now = 450;
    c.add(2, 2); // bucket [400, 500)
    expect([c.first, c.second]).toEqual([5, 3]);
    now = 1_050; // the first bucket has left the window, the second has not
    c.advance();
    expect([c.first, c.second]).toEqual([2, 2]);
    now = 1_350;
    c.advance();
    expect([c.first, c.second]).toEqual([2, 2]);
    now = 1_450; // the window is now [500, 1500): the second bucket is out too
    c.advance();
    expect([c.first, c.second]).toEqual([0, 0]);
  });

  it('forgets everything after a gap longer than the window, and keeps counting after it', () => {
    const c = counts();
    c.add(7, 7);
    now = 60_000;
    c.add(1, 0);
    expect([c.first, c.second]).toEqual([1, 0]);
  });

  it('clear() empties the window', () => {
    const c = counts();
    c.add(4, 2);
    c.clear();
    expect([c.first, c.second]).toEqual([0, 0]);
    c.add(1, 1);
    expect([c.first, c.second]).toEqual([1, 1]);
  });
});
