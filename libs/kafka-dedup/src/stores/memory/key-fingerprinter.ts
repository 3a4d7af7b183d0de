import { FP, hashBytes, hashString } from './fingerprint';
import type { DedupKey } from '../../interfaces/dedup-key.interface';

const SEED_HI = 0x9e3779b9;
const SEED_LO = 0x7f4a7c15;

/**
 * Fingerprints `key` into {@link FP}: the scope is hashed once and cached (scopes are a bounded
 * set: topics x groups), then seeds the hash of the id, so no `scope + id` string is built.
 * @internal
 */
export class KeyFingerprinter {
  private readonly seeds = new Map<string, Uint32Array>();
  // Consecutive messages mostly share a topic: skip the Map lookup when the scope repeats.
  private lastScope = '';
  private lastSeed?: Uint32Array;

  // claim() and commit() of one message get the same key object: hash it once.
  private lastKey?: DedupKey;
  private lastHi = 0;
  private lastLo = 0;

  fingerprint(key: DedupKey): void {
    if (key === this.lastKey) {
      FP[0] = this.lastHi;
      FP[1] = this.lastLo;
      return;
    }
    let seed = key.scope === this.lastScope ? this.lastSeed : undefined;
    if (seed === undefined) {
      seed = this.seeds.get(key.scope);
      if (seed === undefined) {
        hashString(key.scope, SEED_HI, SEED_LO);
        seed = Uint32Array.from(FP);
        this.seeds.set(key.scope, seed);
      }
      this.lastScope = key.scope;
      this.lastSeed = seed;
    }
    if (typeof key.id === 'string') hashString(key.id, seed[0], seed[1]);
    else hashBytes(key.id, seed[0], seed[1]);
    this.lastKey = key;
    this.lastHi = FP[0];
    this.lastLo = FP[1];
  }
}
