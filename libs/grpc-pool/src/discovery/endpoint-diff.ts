/** What changed between two resolutions of a name. @internal */
export interface EndpointDiff {
  /** In the new answer only: to connect, warm up, then use. */
  added: string[];
  /** In the current set only: to drain, then close. */
  removed: string[];
  /** In both: untouched. */
  kept: string[];
}

/**
 * Compares the current endpoints with a new answer. An empty answer changes nothing (the caller
 * keeps the last known set and never gets here with one). Order follows `next`. @internal
 */
export function diffEndpoints(current: Iterable<string>, next: readonly string[]): EndpointDiff {
  const before = new Set(current);
  const after = new Set(next);
  const added: string[] = [];
  const kept: string[] = [];
  for (const t of after) (before.has(t) ? kept : added).push(t);
  const removed = [...before].filter((t) => !after.has(t));
  return { added, removed, kept };
}
