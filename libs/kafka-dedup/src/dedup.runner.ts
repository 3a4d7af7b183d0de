import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { KafkaContext, KafkaHeaders } from '@nestjs/microservices';
import { catchError, isObservable, throwError, type Observable } from 'rxjs';
import { DEDUP_RESOLVED_OPTIONS } from './dedup.constants';
import { quietEventError } from './dedup.handler-error';
import { PreClaimContext, type HandlerPlan, type HandlerRunner } from './dedup.handler-plan';
import { resolveKeySource, type ResolvedDedupOptions } from './dedup.options';
import { DedupService } from './dedup.service';
import { DedupMissingKeyError } from './errors/dedup.errors';
import { RateLimitedLogger } from './logging/rate-limited-logger';
import { DUPLICATE } from './service/dedup.decision';
import { LastKeyCache } from './util/last-key.cache';
import { bindRunner, isWrappedClass, setFallbackRunner } from './dedup.wrapper';
import type { DedupKey } from './interfaces/dedup-key.interface';
import type { DedupKafkaMessage, DeduplicateOptions } from './interfaces/dedup-options.interface';
import {
  createKeyExtractor,
  isMissing,
  type KeyExtractor,
  type MissingKey,
} from './keys/key-extractor';

/**
 * Runs Kafka handlers through {@link DedupService.execute}: reads the event id, applies
 * `onMissingKey`, answers duplicates (`duplicateReply` for `@MessagePattern`), and hands event
 * failures to kafkajs so they are logged once and redelivered. Shared by `@Deduplicate()` (which
 * reaches it from the controller instance, bound at module init) and the interceptors; a server that
 * claims ids itself hands it a {@link PreClaimContext}.
 * @internal
 */
@Injectable()
export class DedupRunner implements HandlerRunner, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('KafkaDedup');
  // A topic full of messages without ids writes a few lines, not one per message (the
  // missing-key metric keeps the exact count).
  private readonly warnings = new RateLimitedLogger(this.logger);
  private readonly errors = new RateLimitedLogger({ warn: (m) => this.logger.error(m) });
  /** Per metadata object: [message plan, event plan]. */
  private readonly plans = new WeakMap<object, [HandlerPlan?, HandlerPlan?]>();
  /** `<group>/<topic>` per topic; consecutive messages mostly share a topic. */
  private readonly scopes: LastKeyCache<string, string>;
  private readonly defaultExtract: KeyExtractor;

  constructor(
    readonly service: DedupService,
    @Inject(DEDUP_RESOLVED_OPTIONS) private readonly options: ResolvedDedupOptions,
    private readonly discovery: DiscoveryService,
  ) {
    this.defaultExtract = createKeyExtractor(options.key);
    const scopes = new Map<string, string>();
    this.scopes = new LastKeyCache((topic: string) => {
      let scope = scopes.get(topic);
      if (scope === undefined) {
        scope = options.group ? `${options.group}/${topic}` : topic;
        scopes.set(topic, scope);
      }
      return scope;
    });
    setFallbackRunner(this, true);
  }

  /** Binds this runner to the app's controllers that use `@Deduplicate()` (several apps may share a process). */
  onModuleInit(): void {
    for (const wrapper of this.discovery.getControllers()) {
      const instance = wrapper.instance as object | undefined;
      if (instance && isWrappedClass(instance.constructor)) bindRunner(instance, this);
    }
  }

  onModuleDestroy(): void {
    setFallbackRunner(this, false);
    this.warnings.flush();
    this.errors.flush();
  }

  /** The plan of a handler, cached per metadata object. */
  planOf(meta: DeduplicateOptions | undefined, isEvent: boolean): HandlerPlan {
    const cacheKey = meta ?? EMPTY;
    let cached = this.plans.get(cacheKey);
    if (cached === undefined) {
      cached = [undefined, undefined];
      this.plans.set(cacheKey, cached);
    }
    let plan = cached[isEvent ? 1 : 0];
    if (plan === undefined) {
      plan = {
        skip: meta?.skip ?? false,
        isEvent,
        extract: meta?.key
          ? createKeyExtractor(resolveKeySource('@Deduplicate().key', meta.key))
          : this.defaultExtract,
        onMissingKey: meta?.onMissingKey ?? this.options.onMissingKey,
        scope: meta?.scope,
      };
      cached[isEvent ? 1 : 0] = plan;
    }
    return plan;
  }

  /** The dedup key of a message, or why it has none. */
  keyOf(plan: HandlerPlan, message: DedupKafkaMessage, kafka: KafkaContext): DedupKey | MissingKey {
    const id = plan.extract(message, kafka);
    if (isMissing(id)) return id;
    return { scope: plan.scope ?? this.scopes.get(kafka.getTopic()), id };
  }

  /**
   * Deduplicates one handler call. Answers what the handler answers (synchronously when it and the
   * store do), its duplicate reply, or a Promise/Observable of them.
   */
  run(plan: HandlerPlan, kafka: KafkaContext, fn: () => unknown): unknown {
    const topic = kafka.getTopic();
    if (kafka instanceof PreClaimContext) {
      kafka.sink.learn(topic, plan, this);
      // Its server claimed this id and commits or releases it itself.
      if (kafka.preClaimed) return this.guard(fn, !plan.isEvent);
    }
    if (!this.service.enabled) {
      this.service.untracked(topic);
      return fn();
    }
    const message = kafka.getMessage() as DedupKafkaMessage;
    const request = !plan.isEvent && isRequest(message);
    const id = plan.extract(message, kafka);
    if (isMissing(id)) return this.missing(plan, kafka, id, request, fn);
    const key: DedupKey = { scope: plan.scope ?? this.scopes.get(topic), id };
    let result: unknown;
    try {
      result = this.service.execute(key, fn, topic, kafka.getHeartbeat());
    } catch (error) {
      throw request ? error : quietEventError(error);
    }
    if (result === DUPLICATE) return this.duplicateReply(request, id);
    if (result instanceof Promise) {
      return result.then(
        (value: unknown) => (value === DUPLICATE ? this.duplicateReply(request, id) : value),
        request ? undefined : rethrowQuiet,
      );
    }
    if (!request && isObservable(result)) return result.pipe(catchError(throwQuiet));
    return result;
  }

  /** Runs `fn` and, for events, hands its failure to kafkajs quietly. */
  private guard(fn: () => unknown, request: boolean): unknown {
    if (request) return fn();
    let result: unknown;
    try {
      result = fn();
    } catch (error) {
      throw quietEventError(error);
    }
    if (result instanceof Promise) return result.catch(rethrowQuiet);
    if (isObservable(result)) return result.pipe(catchError(throwQuiet));
    return result;
  }

  private missing(
    plan: HandlerPlan,
    kafka: KafkaContext,
    id: MissingKey,
    request: boolean,
    fn: () => unknown,
  ): unknown {
    const topic = kafka.getTopic();
    this.service.missingKey(topic);
    const where = `${topic}[${kafka.getPartition()}]@${(kafka.getMessage() as DedupKafkaMessage).offset}`;
    switch (plan.onMissingKey) {
      case 'process':
        this.warnings.warn(
          `missing-key:process:${topic}`,
          `no event id in ${where} (${id.missing}): processing without deduplication`,
        );
        this.service.untracked(topic);
        return this.guard(fn, request);
      case 'skip':
        this.warnings.warn(
          `missing-key:skip:${topic}`,
          `no event id in ${where} (${id.missing}): skipped (onMissingKey: skip)`,
        );
        return undefined;
      case 'error':
        if (request) {
          throw new DedupMissingKeyError(
            topic,
            kafka.getPartition(),
            (kafka.getMessage() as DedupKafkaMessage).offset,
            id.missing,
          );
        }
        // Throwing would make kafkajs redeliver the event forever and block its partition.
        this.errors.warn(
          `missing-key:error:${topic}`,
          `no event id in ${where} (${id.missing}): skipped (onMissingKey: error)`,
        );
        return undefined;
    }
  }

  private duplicateReply(request: boolean, id: string | Buffer): unknown {
    return request ? this.options.duplicateReply?.(String(id)) : undefined;
  }
}

const EMPTY: DeduplicateOptions = {};

/** Nest answers a message only when it carries a correlation id and a reply topic. */
function isRequest(message: DedupKafkaMessage): boolean {
  const headers = message.headers;
  return (
    headers !== undefined &&
    headers[KafkaHeaders.CORRELATION_ID] !== undefined &&
    headers[KafkaHeaders.REPLY_TOPIC] !== undefined
  );
}

function rethrowQuiet(error: unknown): never {
  throw quietEventError(error);
}

function throwQuiet(error: unknown): Observable<never> {
  return throwError(() => quietEventError(error));
}
