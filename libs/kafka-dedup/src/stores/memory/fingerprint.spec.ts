import { FP, hashBytes, hashString } from './fingerprint';

function fp(s: string | Buffer): string {
  if (typeof s === 'string') hashString(s, 1, 2);
  else hashBytes(s, 1, 2);
  return `${FP[0]}:${FP[1]}`;
}

describe('fingerprint', () => {
  it('hashes an ASCII id the same as a string and as a Buffer', () => {
    expect(fp('evt-0001-abc')).toBe(fp(Buffer.from('evt-0001-abc')));
    expect(fp('odd')).toBe(fp(Buffer.from('odd')));
  });

  it('gives 200k similar ids 200k distinct 64-bit fingerprints', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200_000; i++) seen.add(fp(`order-${i}-2026-11-26T17:00:00Z`));
    expect(seen.size).toBe(200_000);
  });

  it('depends on the seed (scope)', () => {
    hashString('same-id', 1, 2);
    const a = `${FP[0]}:${FP[1]}`;
    hashString('same-id', 3, 4);
    expect(`${FP[0]}:${FP[1]}`).not.toBe(a);
  });
});
