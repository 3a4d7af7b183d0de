import type { DedupKey } from '../interfaces/dedup-key.interface';
import { BatchClaims } from './batch-claims';
import { FirstCopies } from './first-copies';
import type { LearnedPlan, Slot } from './batch-slot';

/**
 * Starts claiming the ids of `slots[from…]` ahead of their handlers (`BatchClaims`); copies of an
 * id claim once. `undefined` when there is nothing to claim ahead. @internal
 */
export function claimAhead(
  learned: LearnedPlan,
  slots: Slot[],
  topic: string,
  from: number,
): BatchClaims | undefined {
  const { plan, runner } = learned;
  const service = runner.service;
  // A transactional store runs each handler in its own transaction (per-message path).
  if (!service.enabled || service.store.runInTransaction !== undefined) return undefined;
  const keys: DedupKey[] = [];
  const owners: number[] = [];
  const first = new FirstCopies();
  for (let i = from; i < slots.length; i++) {
    const context = slots[i].context;
    if (context === null) continue;
    const key = runner.keyOf(plan, context.getMessage() as never, context);
    if (!('scope' in key)) continue; // no id: the handler applies onMissingKey
    const original = first.firstOf(key, i);
    if (original !== undefined) {
      slots[i].copyOf = original;
      continue;
    }
    keys.push(key);
    owners.push(i);
  }
  return keys.length === 0 ? undefined : new BatchClaims(service, topic, slots, keys, owners);
}
