import { GroupPrefixes } from './redis-layout';
import { member, RedisIdArgs } from './redis-id-args';
import { FP } from '../memory/fingerprint';

describe('RedisIdArgs', () => {
  const key = { scope: 'g/orders', id: 'order-42' };

  it('sends the token alone for v1 (the scripts of the versions before layouts)', () => {
    const args = new RedisIdArgs('v1', new GroupPrefixes('p:', 1_000), 32_768, 1_000, 1);
    const out: Array<string | number | Buffer> = [];
    expect(args.head(out, 'p:g/orders:order-42')).toBe(0);
    args.claimId(out, key, 'o:1');
    args.commitId(out, key, 'o:1', 0);
    args.markId(out, key, 0);
    expect(out).toEqual(['o:1', 'o:1']);
    args.stop();
  });

  it('sends a stable shard and 49-bit integer member for v2, the group expiry once per bucket', () => {
    const args = new RedisIdArgs('v2', new GroupPrefixes('p:', 1_000), 32_768, 1_000, 1);
    const claim: Array<string | number | Buffer> = [];
    args.head(claim, 'p:g/orders:order-42');
    claim.splice(1, 1); // the bucket: see the next test
    args.claimId(claim, key, 'o:1');
    expect(claim[0]).toBe('p:v2:1000:');
    expect(claim[1]).toBe('o:1');
    const shard = Number(claim[2]);
    const member = Number(claim[3]);
    expect(shard).toBeGreaterThanOrEqual(0);
    expect(shard).toBeLessThan(32_768);
    expect(Number.isSafeInteger(member)).toBe(true);
    expect(member).toBeLessThan(2 ** 49);
    expect(String(member)).toBe(claim[3]);
    // The same id as bytes gives the same fingerprint (an ASCII id).
    const bytes: Array<string | number | Buffer> = [];
    args.claimId(bytes, { scope: key.scope, id: Buffer.from(key.id) }, 'o:2');
    expect(bytes.slice(1)).toEqual(claim.slice(2));
    // Another scope, another fingerprint.
    const other: Array<string | number | Buffer> = [];
    args.claimId(other, { scope: 'g/other', id: key.id }, 'o:3');
    expect(other.slice(1)).not.toEqual(claim.slice(2));

    const first: Array<string | number | Buffer> = [];
    args.commitId(first, key, 'o:1', 7);
    expect(first).toEqual([`e${shard}`, claim[3]]); // v2 commits carry no token
    const again: Array<string | number | Buffer> = [];
    args.commitId(again, key, 'o:1', 7);
    expect(again).toEqual([String(shard), claim[3]]);
    const nextBucket: Array<string | number | Buffer> = [];
    args.commitId(nextBucket, key, 'o:1', 8);
    expect(nextBucket[0]).toBe(`e${shard}`);
    args.forgetExpiries();
    const afterReconnect: Array<string | number | Buffer> = [];
    args.markId(afterReconnect, key, 8);
    expect(afterReconnect).toEqual([`e${shard}`, claim[3]]);
    args.stop();
  });

  it("reckons the bucket by Redis' clock and says which other groups a claim looks at", async () => {
    const redisAhead = 5_000;
    const args = new RedisIdArgs(
      'v2',
      new GroupPrefixes('p:', 1_000),
      32_768,
      100_000, // bucket
      1,
      80_000, // window
      () => {
        const ms = Date.now() + redisAhead;
        return Promise.resolve([String(Math.floor(ms / 1_000)), String((ms % 1_000) * 1_000)]);
      },
    );
    // The clock read at a fixed local time, so the offset is exact (a loaded machine would otherwise
    // put the round trip's midpoint a few ms off, and the checks at the edges below would flip).
    const realNow = Date.now;
    const fixed = 1_700_000_000_000;
    Date.now = () => fixed;
    try {
      await args.syncClock();
    } finally {
      Date.now = realNow;
    }
    expect(Math.abs(args.now() - (Date.now() + redisAhead))).toBeLessThan(50);
    const at = (redisMs: number): number[] => {
      Date.now = () => redisMs - redisAhead;
      try {
        const out: Array<string | number | Buffer> = [];
        const bucket = args.head(out, 'p:g/orders:1');
        const x = out[1] as number;
        return [bucket, x - bucket * 4];
      } finally {
        Date.now = realNow;
      }
    };
    const b = 17_000_000;
    const start = b * 100_000;
    // Early in the bucket the window reaches into the previous one: flag 1.
    expect(at(start + 10)).toEqual([b, 1]);
    // Past the window + the 2 s clock margin: the current group alone.
    expect(at(start + 82_001)).toEqual([b, 0]);
    // Within the margin of the bucket's end: the next bucket's group too (flag 2).
    expect(at(start + 98_000)).toEqual([b, 2]);
    // A hit in the previous bucket's group is at least as old as the time since that bucket began.
    Date.now = () => start + 10 - redisAhead;
    try {
      expect(args.hitAge(2, b)).toBe(100_011);
      expect(args.hitAge(1, b)).toBe(11);
    } finally {
      Date.now = realNow;
    }
    args.stop();
  });

  it('spreads ids evenly over the shards', () => {
    const args = new RedisIdArgs('v2', new GroupPrefixes('p:', 1_000), 32_768, 1_000, 1);
    const counts = new Uint32Array(16);
    for (let i = 0; i < 160_000; i++) {
      const out: Array<string | number | Buffer> = [];
      args.claimId(out, { scope: 's', id: `id-${i}` }, 't');
      counts[Number(out[1]) % 16]++;
    }
    for (const n of counts) expect(Math.abs(n - 10_000)).toBeLessThan(500);
    args.stop();
  });
});

describe('member', () => {
  it('prints the 49-bit member as String() would, also around 10^8 and at 2^49 - 1', () => {
    const cases: Array<[number, number]> = [
      [0, 0],
      [0, 0xffffffff],
      [762, 0x7fff], // just under 10^8
      [763, 0], // 10^8 + small
      [0xffffffff, 0xffffffff], // 2^49 - 1
    ];
    for (let i = 0; i < 2_000; i++) {
      cases.push([(Math.random() * 2 ** 32) >>> 0, (Math.random() * 2 ** 32) >>> 0]);
    }
    for (const [high, low] of cases) {
      FP[0] = high;
      FP[1] = low;
      expect(member()).toBe(String(high * 131_072 + (low >>> 15)));
    }
  });
});
