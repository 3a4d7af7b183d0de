const NONE: unique symbol = Symbol('kafka-dedup:no-key');

/**
 * A one-slot memo for lookups whose key mostly repeats from one message to the next (a topic, a
 * scope): the last key's value is answered again after one comparison, with no allocation;
 * another key calls `compute` (which may keep its own Map) and takes the slot. Every such cache of
 * the library is an instance of this one class, so the hit path stays monomorphic.
 *
 * @example
 * const scopes = new LastKeyCache((topic: string) => `${group}/${topic}`);
 * scopes.get('orders'); // computed
 * scopes.get('orders'); // the same string, not computed again
 * @internal
 */
export class LastKeyCache<K, V> {
  private lastKey: K | typeof NONE = NONE;
  private lastValue: V | undefined = undefined;

  /** @param compute the value of a key; called again only when the key changes. */
  constructor(private readonly compute: (key: K) => V) {}

  /** The value of `key`: the remembered one when `key` is the last key asked, else computed. */
  get(key: K): V {
    if (key === this.lastKey) return this.lastValue as V;
    const value = this.compute(key);
    this.lastKey = key;
    this.lastValue = value;
    return value;
  }
}
