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

const ROUTE_ARGS_KEY = ((): unknown => {
  class Probe {
    handle(_value: unknown): void {}
  }
  Payload()(Probe.prototype, 'handle', 0);
  return Reflect.getOwnMetadataKeys(Probe, 'handle')[0];
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

/** Indexes of the parameters of `target[key]` that carry Nest parameter decorators. @internal */
export function decoratedParameterIndexes(target: object, key: string | symbol): number[] {
  const args = Reflect.getMetadata(ROUTE_ARGS_KEY, target.constructor, key) as
    Record<string, { index: number }> | undefined;
  return args === undefined ? [] : Object.values(args).map((a) => a.index);
}

/**
 * Makes Nest pass `(payload, context)` explicitly, as it does by default for a handler without
 * parameter decorators, so one more decorated parameter does not drop them. @internal
 */
export function declareDefaultParameters(target: object, key: string | symbol): void {
  Payload()(target, key, 0);
  Ctx()(target, key, 1);
}

/** Copies the own metadata of `from` (Nest's pattern, interceptors, guards, …) onto `to`. @internal */
export function copyMetadata(from: object, to: object): void {
  for (const key of Reflect.getOwnMetadataKeys(from)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, from), to);
  }
}
