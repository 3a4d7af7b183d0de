import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { KafkaContext } from '@nestjs/microservices';
import { from, isObservable, mergeMap, Observable, of } from 'rxjs';
import { DEDUP_HANDLER_METADATA } from './dedup.constants';
import { isEventHandler } from './dedup.nest-metadata';
import { DedupRunner } from './dedup.runner';
import { isWrapped } from './dedup.wrapper';
import type { DeduplicateOptions } from './interfaces/dedup-options.interface';

/**
 * The interceptor form of `@Deduplicate()`, for `applyToAllHandlers` and for apps that prefer
 * `@UseInterceptors(DedupInterceptor)`: same semantics (claim, handler, commit; release on
 * failure; duplicate replies; `onMissingKey`), at the cost of Nest's interceptor machinery per
 * message. Handler options come from `@Deduplicate()`/`@SkipDeduplication()` metadata on the
 * method or class; a method already wrapped by `@Deduplicate()` passes through (deduplicated once).
 * Outside a Kafka context it does nothing.
 *
 * @example
 * \@UseInterceptors(DedupInterceptor)
 * \@EventPattern('users.cdc')
 * handle(@Payload() change: UserChange) { … }
 */
@Injectable()
export class DedupInterceptor implements NestInterceptor {
  constructor(
    private readonly runner: DedupRunner,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const kafka = context.switchToRpc().getContext();
    if (!(kafka instanceof KafkaContext)) return next.handle();
    const handler = context.getHandler();
    if (isWrapped(handler)) return next.handle();
    const meta = this.reflector.getAllAndOverride<DeduplicateOptions | undefined>(
      DEDUP_HANDLER_METADATA,
      [handler, context.getClass()],
    );
    const plan = this.runner.planOf(meta, isEventHandler(handler));
    if (plan.skip) return next.handle();
    return toObservable(this.runner.run(plan, kafka, () => next.handle()));
  }
}

function toObservable(result: unknown): Observable<unknown> {
  if (isObservable(result)) return result;
  if (result instanceof Promise)
    return from(result).pipe(mergeMap((v: unknown) => (isObservable(v) ? v : of(v))));
  return of(result);
}
