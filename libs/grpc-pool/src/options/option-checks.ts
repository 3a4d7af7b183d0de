import { status } from '@grpc/grpc-js';
import type { GrpcStatusName } from './grpc-pool-options.interface';

/** Reports an invalid option: names the option, the value and what was expected. @internal */
export type Fail = (option: string, value: unknown, expected: string) => never;

/** A set of gRPC status codes from their names (`fallback` when absent). @internal */
export function codes(
  fail: Fail,
  option: string,
  value: GrpcStatusName[] | undefined,
  fallback: GrpcStatusName[],
): Set<status> {
  const names = value ?? fallback;
  if (!Array.isArray(names)) fail(option, value, 'expected a list of gRPC status names');
  return new Set(
    names.map((n) => {
      const code = (status as unknown as Record<string, number>)[n];
      if (typeof code !== 'number' || code === status.OK)
        fail(option, n, 'unknown gRPC status name');
      return code as status;
    }),
  );
}

/** An integer option in [min, max] (`fallback` when absent). @internal */
export function int(
  fail: Fail,
  option: string,
  value: unknown,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return fail(
      option,
      value,
      `expected an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? '' : ` to ${max}`}`,
    );
  }
  return value;
}

/** A single value or a list, as a list. @internal */
export function list<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
