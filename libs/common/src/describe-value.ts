/**
 * A value as an error message shows it: JSON where it can be (`"three"`, `{"size":0}`), `a
 * function` for a function, `String(value)` otherwise (a cycle, a BigInt, a Symbol). @internal
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
