import { DedupOptionsError } from '../errors/dedup.errors';

/** Option checks shared by the module's and the stores' validation: each names the option and the value. @internal */

export function nonNegativeInt(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new DedupOptionsError(name, value, 'expected an integer >= 0 (milliseconds)');
  }
  return value;
}

export function positiveInt(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new DedupOptionsError(name, value, 'expected an integer > 0');
  }
  return value;
}

export function bool(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    throw new DedupOptionsError(name, value, 'expected true or false');
  return value;
}

export function str(name: string, value: unknown, fallback: string, nonEmpty = false): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || (nonEmpty && value.trim() === '')) {
    throw new DedupOptionsError(
      name,
      value,
      nonEmpty ? 'expected a non-empty string' : 'expected a string',
    );
  }
  return value;
}
