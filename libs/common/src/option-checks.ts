/**
 * Option checks of both packages' validation: `undefined` gives the default, anything else must
 * have the expected type, else `fail` throws the package's own options error naming the option and
 * the value. @internal
 */

/** Throws the package's options error for `option` = `value`, saying what was expected. @internal */
export type Fail = (option: string, value: unknown, expected: string) => never;

/**
 * An integer option in [`min`, `max`], `fallback` when undefined; `expected` replaces the message
 * (default `expected an integer from <min>[ to <max>]`). @internal
 */
export function int(
  fail: Fail,
  option: string,
  value: unknown,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
  expected?: string,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return fail(
      option,
      value,
      expected ??
        `expected an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? '' : ` to ${max}`}`,
    );
  }
  return value;
}

/** A boolean option, `fallback` when undefined. @internal */
export function bool(fail: Fail, option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') return fail(option, value, 'expected true or false');
  return value;
}

/** A string option (`nonEmpty`: not blank), `fallback` when undefined. @internal */
export function str(
  fail: Fail,
  option: string,
  value: unknown,
  fallback: string,
  nonEmpty = false,
): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || (nonEmpty && value.trim() === '')) {
    return fail(option, value, nonEmpty ? 'expected a non-empty string' : 'expected a string');
  }
  return value;
}

/** A single value or a list, as a list (`[]` when undefined). @internal */
export function list<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Fails on the first key of `options` that is not in `known` ("unknown option"). @internal */
export function rejectUnknownKeys(fail: Fail, options: object, known: ReadonlySet<string>): void {
  for (const key of Object.keys(options))
    if (!known.has(key)) fail(key, (options as Record<string, unknown>)[key], 'unknown option');
}
