import { KafkaContext } from '@nestjs/microservices';
import type { HandlerPlan, HandlerRunner } from './dedup.handler-plan';
import {
  contextParameterIndex,
  copyMetadata,
  declareContextParameter,
  declarePayloadParameter,
  hasDecoratedParameters,
  isEventHandler,
  nextParameterIndex,
} from './dedup.nest-metadata';
import type { DeduplicateOptions } from './interfaces/dedup-options.interface';

/**
 * `@Deduplicate()` replaces the handler method with a wrapper that deduplicates the call itself:
 * no Nest interceptor layer (which costs an Observable pipeline, promise hops and an
 * AsyncResource per message). The wrapper reaches the deduplicator the way
 * `@nestjs-cls/transactional`'s `@Transactional()` reaches its transaction host: through a
 * reference set when the module initialises — here on each controller instance of the app
 * (several apps may live in one process), with the last initialised module as fallback.
 */

/** Controller instance property holding its app's runner. */
const RUNNER = Symbol('kafka-dedup:runner');
/** Marks classes that have wrapped methods. */
const WRAPPED_CLASSES = new WeakSet<object>();
/** Marks wrapped functions (not wrapped twice). */
const WRAPPED = Symbol('kafka-dedup:wrapped');
/** Runners alive in this process, most recent last. */
const liveRunners: HandlerRunner[] = [];

/** @internal */
export function setFallbackRunner(runner: HandlerRunner, alive: boolean): void {
  const index = liveRunners.indexOf(runner);
  if (index >= 0) liveRunners.splice(index, 1);
  if (alive) liveRunners.push(runner);
}

/** @internal */
export function bindRunner(instance: object, runner: HandlerRunner): void {
  Object.defineProperty(instance, RUNNER, { value: runner, configurable: true, writable: true });
}

/** @internal */
export function isWrappedClass(type: unknown): boolean {
  return typeof type === 'function' && WRAPPED_CLASSES.has(type);
}

/** Whether `fn` is already a deduplicating wrapper. @internal */
export function isWrapped(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as { [WRAPPED]?: boolean })[WRAPPED] === true;
}

function runnerFor(instance: object, name: string): HandlerRunner {
  const runner =
    (instance as { [RUNNER]?: HandlerRunner })[RUNNER] ?? liveRunners[liveRunners.length - 1];
  if (runner === undefined) {
    throw new Error(
      `KafkaDedup: @Deduplicate() on ${name} needs DedupModule.forRoot() (or forRootAsync()) in the application`,
    );
  }
  return runner;
}

/**
 * Replaces `descriptor.value` with a deduplicating wrapper carrying the method's metadata. The
 * wrapper reads the `KafkaContext` where Nest passes it: the handler's own `@Ctx()` parameter; for
 * a handler without parameter decorators, `@Payload()` and `@Ctx()` declared as parameters 0 and 1
 * (Nest 12 alone would pass it the payload only); else one extra `@Ctx()` parameter after the
 * declared ones (parameter decorators run before method and class decorators, so they are all
 * known here), which the wrapper removes before calling the method.
 * @internal
 */
export function wrapHandler(
  target: object,
  key: string | symbol,
  descriptor: PropertyDescriptor,
  options: DeduplicateOptions,
): void {
  const original = descriptor.value as (...args: unknown[]) => unknown;
  if (typeof original !== 'function' || isWrapped(original)) return;
  let contextIndex = contextParameterIndex(target, key);
  let added = false;
  if (!hasDecoratedParameters(target, key)) {
    // `handle(payload, context?)`: Nest 12 passes such a handler its payload only. Declare both,
    // as older Nest versions passed them: the method gets the context as its second argument.
    declarePayloadParameter(target, key);
    contextIndex = 1;
    declareContextParameter(target, key, contextIndex);
  } else if (contextIndex === undefined) {
    contextIndex = nextParameterIndex(target, key);
    declareContextParameter(target, key, contextIndex);
    added = true;
  }
  const at = contextIndex;
  const name = `${target.constructor.name}.${String(key)}`;
  let plan: HandlerPlan | undefined;
  let planRunner: HandlerRunner | undefined;

  const wrapped = function (this: object, ...args: unknown[]): unknown {
    const kafka = args[at];
    if (added && args.length > at) args.length = at;
    if (!(kafka instanceof KafkaContext)) return original.apply(this, args);
    const runner = runnerFor(this, name);
    if (planRunner !== runner || plan === undefined) {
      plan = runner.planOf(options, isEventHandler(wrapped));
      planRunner = runner;
    }
    if (plan.skip) return original.apply(this, args);
    return runner.run(plan, kafka, () => original.apply(this, args));
  };
  copyMetadata(original, wrapped);
  Object.defineProperty(wrapped, 'name', { value: original.name });
  Object.defineProperty(wrapped, WRAPPED, { value: true });
  descriptor.value = wrapped;
  WRAPPED_CLASSES.add(target.constructor);
}
