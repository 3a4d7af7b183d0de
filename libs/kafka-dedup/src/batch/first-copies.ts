import type { DedupKey } from '../interfaces/dedup-key.interface';
import { keyText } from './batch-messages';

/**
 * Where each id of a batch first appears, to find its later copies. The keys of one topic's batch
 * share their scope, so a text id is looked up as it is (a fresh string hashed once); other keys
 * (a binary id, another scope) by their full key text, in a map of their own. @internal
 */
export class FirstCopies {
  private readonly byId = new Map<string, number>();
  private readonly byText = new Map<string, number>();
  private scope?: string;

  /** The index where `key` first appeared; `undefined` (and `index` recorded) the first time. */
  firstOf(key: DedupKey, index: number): number | undefined {
    this.scope ??= key.scope;
    if (typeof key.id === 'string' && key.scope === this.scope)
      return first(this.byId, key.id, index);
    return first(this.byText, keyText(key.scope, key.id), index);
  }
}

function first(map: Map<string, number>, text: string, index: number): number | undefined {
  const found = map.get(text);
  if (found === undefined) map.set(text, index);
  return found;
}
