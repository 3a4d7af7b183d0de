import { longestStall, stallPeriods } from './broker-failover.part';

const at = (second: number, rows: number, acknowledged = 100) => ({ second, rows, acknowledged });

describe('failover stalls', () => {
  it('counts the time from the last progress to the next while records wait, whole', () => {
    const progress = [at(0, 0), at(1, 10), at(2, 10), at(3, 10), at(6, 20), at(7, 30)];
    expect(stallPeriods(progress)).toEqual([
      { start: 0, end: 1 },
      { start: 1, end: 6 },
      { start: 6, end: 7 },
    ]);
    expect(longestStall(progress)).toBe(5);
    // a window that opens mid-stall still counts the whole stall
    expect(longestStall(progress, 2, 4)).toBe(5);
  });

  it('does not count idle time with nothing acknowledged waiting, and counts a stall at the end', () => {
    expect(longestStall([at(0, 10, 10), at(5, 10, 10), at(6, 20, 20)])).toBe(0);
    expect(longestStall([at(0, 10, 10), at(1, 10, 50), at(4, 10, 50)])).toBe(4);
  });
});
