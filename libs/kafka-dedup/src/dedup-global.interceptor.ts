import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Observable } from 'rxjs';
import { DEDUP_HANDLER_METADATA } from './dedup.constants';
import { DedupInterceptor } from './dedup.interceptor';

/**
 * Registered as `APP_INTERCEPTOR` only with `applyToAllHandlers: true`: deduplicates every Kafka
 * handler without `@Deduplicate()` / `@SkipDeduplication()` of its own or on its class (those are
 * wrapped or exempt). @internal
 */
@Injectable()
export class DedupGlobalInterceptor implements NestInterceptor {
  constructor(
    private readonly interceptor: DedupInterceptor,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const meta: unknown = this.reflector.getAllAndOverride(DEDUP_HANDLER_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (meta !== undefined) return next.handle();
    return this.interceptor.intercept(context, next);
  }
}
