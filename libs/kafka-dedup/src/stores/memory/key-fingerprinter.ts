import { FP, hashBytes, hashString } from './fingerprint';
import type { DedupKey } from '../../interfaces/dedup-key.interface';
import { LastKeyCache } from '../../util/last-key.cache';

const SEED_HI = 0x9e3779b9;
const SEED_LO = 0x7f4a7c15;

/**
 * Fingerprints `key` into {@link FP}: the scope is hashed once and cached (scopes are a bounded
 * set: topics x groups), then seeds the hash of the id, so no `scope + id` string is built.
 * @internal
 */
export class KeyFingerprinter {
  private readonly seeds = new Map<string, Uint32Array>();
  // Consecutive messages mostly share a topic: the Map is only read when the scope changes.
  private readonly lastSeed = new LastKeyCache((scope: string) => this.seedOf(scope));

  // claim() and commit() of one message get the same key object: hash it once. Not a
  // LastKeyCache: the value is two numbers written into FP, which a slot would have to box.
  private lastKey?: DedupKey;
  private lastHi = 0;
  private lastLo = 0;

  fingerprint(key: DedupKey): void {
    if (key === this.lastKey) {
      FP[0] = this.lastHi;
      FP[1] = this.lastLo;
      return;
    }
    const seed = this.lastSeed.get(key.scope);
    if (typeof key.id === 'string') hashString(key.id, seed[0], seed[1]);
    else hashBytes(key.id, seed[0], seed[1]);
    this.lastKey = key;
    this.lastHi = FP[0];
    this.lastLo = FP[1];
  }

  private seedOf(scope: string): Uint32Array {
    let seed = this.seeds.get(scope);
    if (seed === undefined) {
      hashString(scope, SEED_HI, SEED_LO);
      seed = Uint32Array.from(FP);
      this.seeds.set(scope, seed);
    }
    return seed;
  }
}
