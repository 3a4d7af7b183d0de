import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Observable } from 'rxjs';
import { DEDUP_HANDLER_METADATA, DEDUP_RESOLVED_OPTIONS } from './dedup.constants';
import { DedupInterceptor } from './dedup.interceptor';
import type { ResolvedDedupOptions } from './dedup.options';

/**
 * Registered as `APP_INTERCEPTOR`: with `applyToAllHandlers: true`, deduplicates every Kafka
 * handler that has no `@Deduplicate()` of its own (those run the method-level interceptor).
 * Otherwise it passes everything through. @internal
 */
@Injectable()
export class DedupGlobalInterceptor implements NestInterceptor {
  constructor(
    private readonly interceptor: DedupInterceptor,
    private readonly reflector: Reflector,
    @Inject(DEDUP_RESOLVED_OPTIONS) private readonly options: ResolvedDedupOptions,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (!this.options.applyToAllHandlers || context.getType() !== 'rpc') return next.handle();
    if (this.reflector.get(DEDUP_HANDLER_METADATA, context.getHandler()) !== undefined)
      return next.handle();
    return this.interceptor.intercept(context, next);
  }
}
