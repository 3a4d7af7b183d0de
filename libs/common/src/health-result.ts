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
