import { GroupPrefixes } from './redis-layout';
import { RedisIdArgs } from './redis-id-args';

describe('RedisIdArgs', () => {
  const key = { scope: 'g/orders', id: 'order-42' };

  it('sends the token alone for v1 (the scripts of the versions before layouts)', () => {
    const args = new RedisIdArgs('v1', new GroupPrefixes('p:', 1_000), 32_768, 1_000, 1);
    const out: Array<string | number | Buffer> = [];
    args.claimHead(out, 'p:g/orders:order-42');
    expect(args.commitHead(out, 'p:g/orders:order-42')).toBe(0);
    args.claimId(out, key, 'o:1');
    args.commitId(out, key, 'o:1', 0);
    args.markId(out, key, 0);
    expect(out).toEqual(['o:1', 'o:1']);
    args.stop();
  });

  it('sends a stable shard and 49-bit integer member for v2, the group expiry once per bucket', () => {
    const args = new RedisIdArgs('v2', new GroupPrefixes('p:', 1_000), 32_768, 1_000, 1);
    const claim: Array<string | number | Buffer> = [];
    args.claimHead(claim, 'p:g/orders:order-42');
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
    expect(first).toEqual(['o:1', `e${shard}`, claim[3]]);
    const again: Array<string | number | Buffer> = [];
    args.commitId(again, key, 'o:1', 7);
    expect(again).toEqual(['o:1', String(shard), claim[3]]);
    const nextBucket: Array<string | number | Buffer> = [];
    args.commitId(nextBucket, key, 'o:1', 8);
    expect(nextBucket[1]).toBe(`e${shard}`);
    args.forgetExpiries();
    const afterReconnect: Array<string | number | Buffer> = [];
    args.markId(afterReconnect, key, 8);
    expect(afterReconnect).toEqual([`e${shard}`, claim[3]]);
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
