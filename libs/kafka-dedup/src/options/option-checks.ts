import { bool as boolOption, int, str as strOption, type Fail } from '@nest-resilience/common';
import { DedupOptionsError } from '../errors/dedup.errors';

/**
 * Option checks shared by the module's and the stores' validation: each names the option and the
 * value. The checks themselves are `@nest-resilience/common`'s, reporting a `DedupOptionsError`.
 * @internal
 */
const fail: Fail = (option, value, expected) => {
  throw new DedupOptionsError(option, value, expected);
};

/** An integer >= 0 (milliseconds), `fallback` when undefined. @internal */
export function nonNegativeInt(name: string, value: unknown, fallback: number): number {
  return int(fail, name, value, fallback, 0, Infinity, 'expected an integer >= 0 (milliseconds)');
}

/** An integer > 0, `fallback` when undefined. @internal */
export function positiveInt(name: string, value: unknown, fallback: number): number {
  return int(fail, name, value, fallback, 1, Infinity, 'expected an integer > 0');
}

/** true or false, `fallback` when undefined. @internal */
export function bool(name: string, value: unknown, fallback: boolean): boolean {
  return boolOption(fail, name, value, fallback);
}

/** A string (`nonEmpty`: not blank), `fallback` when undefined. @internal */
export function str(name: string, value: unknown, fallback: string, nonEmpty = false): string {
  return strOption(fail, name, value, fallback, nonEmpty);
}
