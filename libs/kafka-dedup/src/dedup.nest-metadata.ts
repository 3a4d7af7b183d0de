import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import 'reflect-metadata';

/**
 * Nest's metadata keys, learned once by applying its public decorators to probe classes instead
 * of importing `@nestjs/microservices/constants` (not public API: a Nest minor may move it).
 * @internal
 */
function probeMethod(decorate: MethodDecorator): Map<unknown, unknown> {
  class Probe {
    handle(): void {}
  }
  const descriptor = Object.getOwnPropertyDescriptor(Probe.prototype, 'handle')!;
  decorate(Probe.prototype, 'handle', descriptor);
  const fn = descriptor.value as object;
  return new Map(Reflect.getOwnMetadataKeys(fn).map((k) => [k, Reflect.getOwnMetadata(k, fn)]));
}

const eventProbe = probeMethod(EventPattern('kafka-dedup:probe') as MethodDecorator);
const messageProbe = probeMethod(MessagePattern('kafka-dedup:probe') as MethodDecorator);
const PATTERN_KEYS = [...eventProbe.keys()];
/** The key whose scalar value tells `@EventPattern` from `@MessagePattern`. */
const HANDLER_TYPE_KEY = PATTERN_KEYS.find(
  (k) =>
    messageProbe.has(k) &&
    typeof eventProbe.get(k) !== 'object' &&
    eventProbe.get(k) !== messageProbe.get(k),
);
const EVENT_HANDLER_TYPE =
  HANDLER_TYPE_KEY === undefined ? undefined : eventProbe.get(HANDLER_TYPE_KEY);

const [ROUTE_ARGS_KEY, CONTEXT_PARAM_PREFIX] = ((): [unknown, string] => {
  class Probe {
    handle(_value: unknown): void {}
  }
  Ctx()(Probe.prototype, 'handle', 0);
  const key = Reflect.getOwnMetadataKeys(Probe, 'handle')[0];
  const entry = Object.keys(Reflect.getOwnMetadata(key, Probe, 'handle') as object)[0];
  return [key, entry.slice(0, entry.indexOf(':') + 1)]; // `${paramtype}:` of @Ctx()
})();

/** Whether `fn` carries `@EventPattern` / `@MessagePattern` metadata. @internal */
export function isPatternHandler(fn: object): boolean {
  return PATTERN_KEYS.some((k) => Reflect.hasOwnMetadata(k, fn));
}

/** Whether `fn` is an `@EventPattern` handler. @internal */
export function isEventHandler(fn: object): boolean {
  return (
    HANDLER_TYPE_KEY !== undefined &&
    Reflect.getOwnMetadata(HANDLER_TYPE_KEY, fn) === EVENT_HANDLER_TYPE
  );
}

/**
 * The index of the `@Ctx()` parameter of `target[key]`, or `undefined` when it has none.
 * @internal
 */
export function contextParameterIndex(target: object, key: string | symbol): number | undefined {
  const args = routeArgs(target, key);
  if (args === undefined) return undefined;
  for (const [entry, { index }] of Object.entries(args)) {
    if (entry.startsWith(CONTEXT_PARAM_PREFIX)) return index;
  }
  return undefined;
}

/** Whether `target[key]` has parameter decorators (`@Payload()`, `@Ctx()`, custom ones). @internal */
export function hasDecoratedParameters(target: object, key: string | symbol): boolean {
  const args = routeArgs(target, key);
  return args !== undefined && Object.keys(args).length > 0;
}

/** One past the highest decorated parameter of `target[key]`. @internal */
export function nextParameterIndex(target: object, key: string | symbol): number {
  const args = routeArgs(target, key) ?? {};
  return Math.max(-1, ...Object.values(args).map((a) => a.index)) + 1;
}

/**
 * Declares what Nest passes a handler without parameter decorators — its payload as parameter 0 —
 * explicitly, so that a declared context parameter does not replace it (Nest falls back to its
 * default parameters only when a handler declares none; Nest 12's default has no context). @internal
 */
export function declarePayloadParameter(target: object, key: string | symbol): void {
  Payload()(target, key, 0);
}

/** Makes Nest pass its RPC context as parameter `index` of `target[key]`. @internal */
export function declareContextParameter(target: object, key: string | symbol, index: number): void {
  Ctx()(target, key, index);
}

function routeArgs(
  target: object,
  key: string | symbol,
): Record<string, { index: number }> | undefined {
  return Reflect.getMetadata(ROUTE_ARGS_KEY, target.constructor, key) as
    Record<string, { index: number }> | undefined;
}

/** Copies the own metadata of `from` (Nest's pattern, interceptors, guards, …) onto `to`. @internal */
export function copyMetadata(from: object, to: object): void {
  for (const key of Reflect.getOwnMetadataKeys(from)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, from), to);
  }
}
