/**
 * The result shape `@nestjs/terminus` expects from a health indicator (its `HealthIndicatorResult`),
 * built here so the indicators work without importing terminus: it stays an optional peer that
 * only apps serving a health endpoint install.
 */
export type HealthResult<Key extends string = string> = Record<
  Key,
  { status: 'up' | 'down' } & Record<string, unknown>
>;

/** @internal */
export function healthResult<const Key extends string>(
  key: Key,
  up: boolean,
  data: Record<string, unknown>,
): HealthResult<Key> {
  return { [key]: { ...data, status: up ? 'up' : 'down' } } as HealthResult<Key>;
}

/**
 * What a check that fails reports: `'down'` fails the health check (terminus answers 503);
 * `'degraded'` only reports it, and the check passes (200, overall status `degraded`;
 * `@nestjs/terminus` ≥ 12, 11 leaves such a result out).
 */
export type WhenDown = 'down' | 'degraded';

/** {@link HealthResult} whose status may also be `degraded` (terminus ≥ 12). */
export type DegradableHealthResult<Key extends string = string> = Record<
  Key,
  { status: 'up' | 'down' | 'degraded' } & Record<string, unknown>
>;

/** `whenDown` checked: `'down'` when undefined; else it must be one of the two. @internal */
export function checkWhenDown(owner: string, whenDown: unknown): WhenDown {
  if (whenDown === undefined) return 'down';
  if (whenDown === 'down' || whenDown === 'degraded') return whenDown;
  throw new TypeError(
    `${owner}: whenDown must be 'down' or 'degraded', got ${JSON.stringify(whenDown)}`,
  );
}

/** `result` with a `down` entry under `key` reported `degraded` when `whenDown` says so. @internal */
export function applyWhenDown<const Key extends string>(
  key: Key,
  result: HealthResult<Key> | DegradableHealthResult<Key>,
  whenDown: WhenDown,
): HealthResult<Key> | DegradableHealthResult<Key> {
  const entry = result[key];
  return entry.status === 'down' && whenDown === 'degraded'
    ? ({ [key]: { ...entry, status: 'degraded' } } as unknown as DegradableHealthResult<Key>)
    : result;
}
