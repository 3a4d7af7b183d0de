import { DEDUP_HANDLER_METADATA } from './dedup.constants';
import { isPatternHandler } from './dedup.nest-metadata';
import { resolveKeySource } from './dedup.options';
import { wrapHandler } from './dedup.wrapper';
import type { DeduplicateOptions } from './interfaces/dedup-options.interface';

/**
 * Deduplicates a Kafka `@EventPattern` / `@MessagePattern` handler: claim its event id, run it,
 * commit; release when it throws (Kafka redelivers, the redelivery runs). Wraps the method itself
 * (no interceptor layer); with the memory store a synchronous handler runs synchronously.
 *
 * On a controller class it applies to every pattern handler of the class; a method's own
 * `@Deduplicate()` / `@SkipDeduplication()` wins over the class's. Options override the module's;
 * they are validated when the class loads.
 *
 * @example
 * \@EventPattern('users.cdc')
 * \@Deduplicate({ key: { from: 'value', path: ['source.lsn', 'source.txId'] } })
 * handle(@Payload() change: UserChange) { … }
 */
export function Deduplicate(options: DeduplicateOptions = {}): MethodDecorator & ClassDecorator {
  if (options.key !== undefined) resolveKeySource('@Deduplicate().key', options.key);
  return ((target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (descriptor === undefined) {
      Reflect.defineMetadata(DEDUP_HANDLER_METADATA, options, target);
      wrapClassHandlers(target as { prototype: object }, options);
      return;
    }
    wrapHandler(target, key!, descriptor, options);
    Reflect.defineMetadata(DEDUP_HANDLER_METADATA, options, descriptor.value as object);
    return descriptor;
  }) as MethodDecorator & ClassDecorator;
}

/**
 * Exempts a handler — or every handler of a controller class — from `applyToAllHandlers` and
 * from a class-level `@Deduplicate()`.
 */
export function SkipDeduplication(): MethodDecorator & ClassDecorator {
  const options: DeduplicateOptions = { skip: true };
  return ((target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    Reflect.defineMetadata(DEDUP_HANDLER_METADATA, options, descriptor?.value ?? target);
    return descriptor;
  }) as MethodDecorator & ClassDecorator;
}

/** Class decorators run after method decorators: every handler's metadata is in place. */
function wrapClassHandlers(type: { prototype: object }, options: DeduplicateOptions): void {
  const prototype = type.prototype;
  for (const name of Object.getOwnPropertyNames(prototype)) {
    if (name === 'constructor') continue;
    const descriptor = Object.getOwnPropertyDescriptor(prototype, name);
    const fn = descriptor?.value as object | undefined;
    if (typeof fn !== 'function' || !isPatternHandler(fn)) continue;
    if (Reflect.hasOwnMetadata(DEDUP_HANDLER_METADATA, fn)) continue; // the method's own wins
    wrapHandler(prototype, name, descriptor!, options);
    Object.defineProperty(prototype, name, descriptor!);
  }
}
