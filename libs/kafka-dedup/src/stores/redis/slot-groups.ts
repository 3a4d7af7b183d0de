/**
 * Groups item indices by Redis Cluster hash slot, so each multi-key script touches one slot (a
 * script or an explicit pipeline may only touch one). Without a slot function (standalone Redis)
 * everything is one group. @internal
 */
export function groupBySlot<K extends string | Buffer>(
  keys: readonly K[],
  slotOf: ((key: K) => number) | undefined,
): number[][] {
  if (slotOf === undefined || keys.length <= 1) {
    const all: number[] = [];
    for (let i = 0; i < keys.length; i++) all.push(i);
    return [all];
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < keys.length; i++) {
    const slot = slotOf(keys[i]);
    const group = groups.get(slot);
    if (group === undefined) groups.set(slot, [i]);
    else group.push(i);
  }
  return [...groups.values()];
}
