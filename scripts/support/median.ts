/**
 * The median of numbers, the lower middle one for an even count (NaN for none): the benches' rounds
 * are odd in number by default, and a lower middle never averages two rounds into one that did not run.
 */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}
