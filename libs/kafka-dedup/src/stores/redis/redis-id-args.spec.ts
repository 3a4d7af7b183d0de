import { GroupPrefixes } from './redis-layout';
import { member, RedisIdArgs } from './redis-id-args';
import { FP } from '../memory/fingerprint';

describe('RedisIdArgs', () => {
  const key = { scope: 'g/orders', id: 'order-42' };

  it('sends the token alone for v1 (the scripts of the versions before layouts)', () => {
    const args = new RedisIdArgs('v1', new GroupPrefixes('p:', 1_000), 32_768, 1_000);
    const out: Array<string | number | Buffer> = [];
    expect(args.head(out, 'p:g/orders:order-42')).toBe(0);
    args.claimId(out, key, 'o:1', 30_000);
    args.commitId(out, key, 'o:1');
    args.markId(out, key);
    expect(out).toEqual(['o:1', 'o:1']);
    args.stop();
  });

  it('claims v2 ids with a lease deadline, a stable shard and a 49-bit integer member', () => {
    const args = new RedisIdArgs('v2', new GroupPrefixes('p:', 1_000), 32_768, 1_000);
    const claim: Array<string | number | Buffer> = [];
    const before = args.now();
    const bucket = args.head(claim, 'p:g/orders:order-42');
    claim.splice(1, 1); // the bucket: see the next tests
    args.claimId(claim, key, 'o:1', 30_000);
    // The prefix of the bucket's groups: the bucket modulo 4 names it.
    expect(claim[0]).toBe(`p:v2:1000:${bucket % 4}:`);
    // The claim value: the token and its lease deadline (ms from the head's clock read, rounded up
    // to 16).
    const [token, deadline] = String(claim[1]).split('/');
    expect(token).toBe('o:1');
    expect(Number(deadline) % 16).toBe(0);
    expect(Number(deadline)).toBeGreaterThanOrEqual(before + 30_000);
    expect(Number(deadline)).toBeLessThan(args.now() + 30_000 + 16);
    expect(args.leaseOver(String(claim[1]))).toBe(false);
    expect(args.leaseOver(`o:1/${Math.floor(args.now()) - 1}`)).toBe(true);
    expect(args.leaseOver('o:1')).toBe(false); // a v1 claim: its PX says
    // The member joins the group at claim: its shard and member (the script that creates a group
    // sets its expiry: nothing is tracked here).
    expect(String(claim[2])).toMatch(/^\d+$/);
    const shard = Number(claim[2]);
    const member = Number(claim[3]);
    expect(shard).toBeGreaterThanOrEqual(0);
    expect(shard).toBeLessThan(32_768);
    expect(Number.isSafeInteger(member)).toBe(true);
    expect(member).toBeLessThan(2 ** 49);
    expect(String(member)).toBe(claim[3]);
    // The same id as bytes gives the same fingerprint (an ASCII id).
    const bytes: Array<string | number | Buffer> = [];
    args.claimId(bytes, { scope: key.scope, id: Buffer.from(key.id) }, 'o:2', 30_000);
    expect(bytes.slice(1)).toEqual([String(shard), claim[3]]);
    // Another scope, another fingerprint.
    const other: Array<string | number | Buffer> = [];
    args.claimId(other, { scope: 'g/other', id: key.id }, 'o:3', 30_000);
    expect(other.slice(2)).not.toEqual(claim.slice(3));
    // A mark carries the same shard and member.
    const mark: Array<string | number | Buffer> = [];
    args.markId(mark, key);
    expect(mark).toEqual([String(shard), claim[3]]);
    args.stop();
  });

  it('v2 commits carry no token; an id claimed before its bucket began here joins the commit group', () => {
    let issued = 'o:0';
    const realNow = Date.now;
    let now = 5_000_500;
    Date.now = () => now;
    try {
      const args = new RedisIdArgs(
        'v2',
        new GroupPrefixes('p:', 1_000),
        32_768,
        1_000,
        1_000,
        undefined,
        () => issued,
      );
      issued = 'o:3'; // o:1..o:3 issued, then the first head: they may be older than its bucket
      expect(args.head([], 'p:k')).toBe(5_000);
      issued = 'o:4';
      const fresh: Array<string | number | Buffer> = [];
      args.commitId(fresh, key, 'o:4');
      expect(fresh).toEqual([]); // claimed in this bucket: its member is in the group already
      const old: Array<string | number | Buffer> = [];
      args.commitId(old, key, 'o:3');
      expect(old).toHaveLength(2);
      expect(String(old[0])).toMatch(/^\d+$/);
      // The next bucket begins: o:4 was claimed before it.
      now = 5_001_100;
      expect(args.head([], 'p:k')).toBe(5_001);
      const rolled: Array<string | number | Buffer> = [];
      args.commitId(rolled, key, 'o:4');
      expect(rolled).toEqual([old[0], old[1]]);
      // Tokens compare by their base-36 counter: o:10 (36) came after o:z (35), o:y before it.
      issued = 'o:z';
      now = 5_002_100;
      args.head([], 'p:k');
      const later: Array<string | number | Buffer> = [];
      args.commitId(later, key, 'o:10');
      expect(later).toEqual([]);
      const earlier: Array<string | number | Buffer> = [];
      args.commitId(earlier, key, 'o:y');
      expect(earlier).toHaveLength(2);
      args.stop();
    } finally {
      Date.now = realNow;
    }
  });

  it('packs the ids of a v2 batch claim into one argument; v1 sends a token per id', () => {
    const keys = [key, { scope: key.scope, id: 'order-43' }, { scope: key.scope, id: 'order-44' }];
    const tokens = ['o:1', 'o:2', 'o:3'];
    const v2 = new RedisIdArgs('v2', new GroupPrefixes('p:', 1_000), 32_768, 1_000);
    const packed: Array<string | number | Buffer> = [];
    v2.head(packed, 'p:k');
    v2.claimIds(packed, keys, tokens, [0, 2], 30_000);
    expect(packed).toHaveLength(3);
    // The same value, shard and member as one claim of each id, space-separated (the lease
    // deadline from the head's clock read: compared as a token with a deadline).
    const one = (i: number): string[] => {
      const out: Array<string | number | Buffer> = [];
      v2.head([], 'p:k');
      v2.claimId(out, keys[i], tokens[i], 30_000);
      return out.map(String);
    };
    const parts = String(packed[2]).split(' ');
    expect(parts).toHaveLength(6);
    expect(parts[0]).toMatch(/^o:1\/\d+$/);
    expect(parts[3]).toMatch(/^o:3\/\d+$/);
    expect([...parts.slice(1, 3), ...parts.slice(4)]).toEqual([
      ...one(0).slice(1),
      ...one(2).slice(1),
    ]);
    v2.stop();
    const v1 = new RedisIdArgs('v1', new GroupPrefixes('p:', 1_000), 32_768, 1_000);
    const plain: Array<string | number | Buffer> = [];
    v1.claimIds(plain, keys, tokens, [0, 2], 30_000);
    expect(plain).toEqual(['o:1', 'o:3']);
    v1.stop();
  });

  it('takes a claim over as a v2 claim in the group (v2), or with the token alone (v1)', () => {
    const v2 = new RedisIdArgs('v2', new GroupPrefixes('p:', 1_000), 32_768, 1_000);
    const out: Array<string | number | Buffer> = ['p:k'];
    v2.takeover(out, 'p:k', key, 'x:1/5', 'o:9', 30_000);
    expect(out[1]).toMatch(/^p:v2:1000:[0-3]:$/);
    expect(out.slice(3, 6)).toEqual(['x:1/5', 'o:9', 30_000]);
    expect(String(out[6])).toMatch(/^\/\d+$/);
    expect(String(out[7])).toMatch(/^\d+$/);
    v2.stop();
    const v1 = new RedisIdArgs('v1', new GroupPrefixes('p:', 1_000), 32_768, 1_000);
    const plain: Array<string | number | Buffer> = ['p:k'];
    v1.takeover(plain, 'p:k', key, 'x:1', 'o:9', 30_000);
    expect(plain.slice(0, 4)).toEqual(['p:k', 'x:1', 'o:9', 30_000]);
    expect(plain).toHaveLength(5);
    v1.stop();
  });

  it("reckons the bucket by Redis' clock and says which other groups a claim looks at", async () => {
    const redisAhead = 5_000;
    const args = new RedisIdArgs(
      'v2',
      new GroupPrefixes('p:', 1_000),
      32_768,
      100_000, // bucket
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
    const args = new RedisIdArgs('v2', new GroupPrefixes('p:', 1_000), 32_768, 1_000);
    const counts = new Uint32Array(16);
    for (let i = 0; i < 160_000; i++) {
      const out: Array<string | number | Buffer> = [];
      args.claimId(out, { scope: 's', id: `id-${i}` }, 't', 1_000);
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
