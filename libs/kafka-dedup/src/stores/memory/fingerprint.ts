/**
 * 64-bit fingerprints of event ids: the two-lane structure of MurmurHash3 x86_128 (each lane mixes
 * its own 32-bit word per 4-unit block, then the lanes are cross-added), over 16-bit units with
 * fmix finalisation. Strings are hashed by UTF-16 code unit and Buffers byte by byte in the same
 * words, so an ASCII id hashes the same whether Nest hands it over as a string or a Buffer, and no
 * string is decoded or built for the lookup.
 *
 * Collision probability: for n live fingerprints, a new distinct id falsely matches one with
 * probability about n / 2^64 (1M live ids: 5.4e-14 per lookup; 1e9 lookups at 1M live: ~5e-5 in all).
 * @internal
 */

/** Output of the last hash call: `[hi, lo]`, both unsigned 32-bit. Reused to avoid allocation. */
export const FP = new Uint32Array(2);

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;

/** Hashes `s` with the two seeds; the result lands in {@link FP}. */
export function hashString(s: string, seedHi: number, seedLo: number): void {
  let h1 = seedHi | 0;
  let h2 = seedLo | 0;
  const n = s.length;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    let k1 = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
    let k2 = s.charCodeAt(i + 2) | (s.charCodeAt(i + 3) << 16);
    k1 = Math.imul(k1, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    h1 ^= Math.imul(k1, C2);
    h1 = (h1 << 19) | (h1 >>> 13);
    h1 = (h1 + h2) | 0;
    h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(k2, C2);
    k2 = (k2 << 16) | (k2 >>> 16);
    h2 ^= Math.imul(k2, C3);
    h2 = (h2 << 17) | (h2 >>> 15);
    h2 = (h2 + h1) | 0;
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0;
  }
  let k1 = 0;
  let k2 = 0;
  const rest = n - i;
  if (rest >= 3) k2 = s.charCodeAt(i + 2);
  if (rest >= 2) k1 = s.charCodeAt(i + 1) << 16;
  if (rest >= 1) k1 |= s.charCodeAt(i);
  finish(h1, h2, k1, k2, n);
}

/**
 * Hashes the bytes of `b` with the two seeds; the result lands in {@link FP}. The loop mirrors
 * {@link hashString} on purpose: a shared loop would pay an accessor call per 16-bit unit on this hot path.
 */
export function hashBytes(b: Uint8Array, seedHi: number, seedLo: number): void {
  let h1 = seedHi | 0;
  let h2 = seedLo | 0;
  const n = b.length;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    let k1 = b[i] | (b[i + 1] << 16);
    let k2 = b[i + 2] | (b[i + 3] << 16);
    k1 = Math.imul(k1, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    h1 ^= Math.imul(k1, C2);
    h1 = (h1 << 19) | (h1 >>> 13);
    h1 = (h1 + h2) | 0;
    h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(k2, C2);
    k2 = (k2 << 16) | (k2 >>> 16);
    h2 ^= Math.imul(k2, C3);
    h2 = (h2 << 17) | (h2 >>> 15);
    h2 = (h2 + h1) | 0;
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0;
  }
  let k1 = 0;
  let k2 = 0;
  const rest = n - i;
  if (rest >= 3) k2 = b[i + 2];
  if (rest >= 2) k1 = b[i + 1] << 16;
  if (rest >= 1) k1 |= b[i];
  finish(h1, h2, k1, k2, n);
}

function finish(h1: number, h2: number, k1: number, k2: number, n: number): void {
  if (k1 !== 0 || k2 !== 0) {
    k1 = Math.imul(k1, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    h1 ^= Math.imul(k1, C2);
    k2 = Math.imul(k2, C2);
    k2 = (k2 << 16) | (k2 >>> 16);
    h2 ^= Math.imul(k2, C3);
  }
  h1 ^= n;
  h2 ^= n;
  h1 = (h1 + h2) | 0;
  h2 = (h2 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h1 = (h1 + h2) | 0;
  h2 = (h2 + h1) | 0;
  FP[0] = h1;
  FP[1] = h2;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
