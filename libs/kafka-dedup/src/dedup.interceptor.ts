import {
  CallHandler,
  ExecutionContext,
  Inject,
  Injectable,
  Logger,
  NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { KafkaContext } from '@nestjs/microservices';
import { PATTERN_HANDLER_METADATA } from '@nestjs/microservices/constants';
import { PatternHandler } from '@nestjs/microservices/enums/pattern-handler.enum';
import { Observable, of } from 'rxjs';
import { DEDUP_HANDLER_METADATA, DEDUP_RESOLVED_OPTIONS } from './dedup.constants';
import { DedupMetrics } from './dedup.metrics';
import { resolveKeySource, type ResolvedDedupOptions } from './dedup.options';
import { DedupService, type DedupDecision } from './dedup.service';
import { DedupMissingKeyError } from './errors/dedup.errors';
import type { DeduplicateOptions, MissingKeyPolicy } from './interfaces/dedup-options.interface';
import { createKeyExtractor, isMissing, type KeyExtractor } from './keys/key-extractor';

/** What the interceptor needs per handler, built once. @internal */
interface HandlerPlan {
  skip: boolean;
  /** `@EventPattern` (true) or `@MessagePattern` (false). */
  isEvent: boolean;
  extract: KeyExtractor;
  onMissingKey: MissingKeyPolicy;
  scope?: string;
}

/**
 * Deduplicates a Kafka `@EventPattern` / `@MessagePattern` handler: claim before it, commit after
 * it succeeds, release when it throws (the redelivery is then processed). A duplicate skips the
 * handler and lets the offset advance: an event handler completes with no value; a message
 * handler replies `duplicateReply(id)` (default: none; Nest delivers `null` to the caller).
 * A message without an id follows `onMissingKey`; with `'error'`, a `@MessagePattern` caller
 * receives a `DedupMissingKeyError` and an event is logged as an error and skipped.
 * Outside a Kafka context it does nothing.
 */
@Injectable()
export class DedupInterceptor implements NestInterceptor {
  private readonly logger = new Logger('KafkaDedup');
  private readonly plans = new WeakMap<object, HandlerPlan>();
  private readonly scopes = new Map<string, string>();
  private readonly defaultExtract: KeyExtractor;

  constructor(
    private readonly dedup: DedupService,
    private readonly reflector: Reflector,
    private readonly metrics: DedupMetrics,
    @Inject(DEDUP_RESOLVED_OPTIONS) private readonly options: ResolvedDedupOptions,
  ) {
    this.defaultExtract = createKeyExtractor(options.key);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const kafka = context.switchToRpc().getContext();
    if (!(kafka instanceof KafkaContext) || !this.dedup.enabled) return next.handle();
    const plan = this.planFor(context.getHandler());
    if (plan.skip) return next.handle();
    return this.deduplicate(kafka, plan, next);
  }

  /** @internal Used by the global interceptor for handlers without `@Deduplicate()`. */
  deduplicate(kafka: KafkaContext, plan: HandlerPlan, next: CallHandler): Observable<unknown> {
    const topic = kafka.getTopic();
    const message = kafka.getMessage();
    const id = plan.extract(message, kafka);
    if (isMissing(id)) {
      this.metrics.missingKeys.inc({ topic, store: this.dedup.store.name });
      const where = `${topic}[${kafka.getPartition()}]@${message.offset}`;
      switch (plan.onMissingKey) {
        case 'process':
          this.logger.warn(
            `no event id in ${where} (${id.missing}): processing without deduplication`,
          );
          this.dedup.untracked(topic);
          return next.handle();
        case 'skip':
          this.logger.warn(`no event id in ${where} (${id.missing}): skipped (onMissingKey: skip)`);
          return of(undefined);
        case 'error':
          return throwLater(
            new DedupMissingKeyError(topic, kafka.getPartition(), message.offset, id.missing),
          );
      }
    }
    const key = { scope: plan.scope ?? this.scopeOf(topic), id };
    return new Observable((subscriber) => {
      let decision: DedupDecision | undefined;
      let settled = false;
      let inner: { unsubscribe(): void } | undefined;
      const heartbeat = kafka.getHeartbeat();
      this.dedup.acquire(key, { topic, heartbeat }).then(
        (d) => {
          decision = d;
          if (subscriber.closed) return void this.dedup.release(d);
          if (d.action === 'skip') {
            settled = true;
            subscriber.next(this.options.duplicateReply?.(String(id)));
            subscriber.complete();
            return;
          }
          inner = next.handle().subscribe({
            next: (value) => subscriber.next(value),
            error: (error: unknown) => {
              settled = true;
              void this.dedup.release(d).then(() => subscriber.error(error));
            },
            complete: () => {
              settled = true;
              void this.dedup.commit(d).then(() => subscriber.complete());
            },
          });
        },
        (error: unknown) => subscriber.error(error),
      );
      return () => {
        inner?.unsubscribe();
        // Torn down before the handler finished (e.g. a timeout): give the event back.
        if (decision && !settled) void this.dedup.release(decision);
      };
    });
  }

  /** Resolves (and caches) the plan of a handler from `@Deduplicate()` and the module options. */
  planFor(handler: object, defaults: Partial<DeduplicateOptions> = {}): HandlerPlan {
    let plan = this.plans.get(handler);
    if (plan === undefined) {
      const meta = {
        ...defaults,
        ...this.reflector.get<DeduplicateOptions | undefined>(
          DEDUP_HANDLER_METADATA,
          handler as never,
        ),
      };
      plan = {
        skip: meta.skip ?? false,
        isEvent:
          this.reflector.get(PATTERN_HANDLER_METADATA, handler as never) !== PatternHandler.MESSAGE,
        extract: meta.key
          ? createKeyExtractor(resolveKeySource('@Deduplicate().key', meta.key))
          : this.defaultExtract,
        onMissingKey: meta.onMissingKey ?? this.options.onMissingKey,
        scope: meta.scope,
      };
      this.plans.set(handler, plan);
    }
    return plan;
  }

  private scopeOf(topic: string): string {
    let scope = this.scopes.get(topic);
    if (scope === undefined) {
      scope = this.options.group ? `${this.options.group}/${topic}` : topic;
      this.scopes.set(topic, scope);
    }
    return scope;
  }
}

function throwLater(error: Error): Observable<never> {
  return new Observable((subscriber) => subscriber.error(error));
}
