import { KafkaContext } from '@nestjs/microservices';
import type { DedupService } from './dedup.service';
import type { DedupKey } from './interfaces/dedup-key.interface';
import type {
  DedupKafkaMessage,
  DeduplicateOptions,
  MissingKeyPolicy,
} from './interfaces/dedup-options.interface';
import type { KeyExtractor, MissingKey } from './keys/key-extractor';

/**
 * What the callers of the runner share, below all of them: a handler's plan, the runner as they
 * see it, and the context of a message whose id its server may claim before the handler runs.
 */

/** How one handler is deduplicated, resolved once from `@Deduplicate()` and the module options. @internal */
export interface HandlerPlan {
  readonly skip: boolean;
  /** `@EventPattern` handler: a failure is redelivered, never answered. */
  readonly isEvent: boolean;
  readonly extract: KeyExtractor;
  readonly onMissingKey: MissingKeyPolicy;
  readonly scope?: string;
}

/** The runner (`DedupRunner`) as `@Deduplicate()`'s wrapper and a claiming server reach it. @internal */
export interface HandlerRunner {
  readonly service: DedupService;
  /** The plan of a handler, cached per metadata object. */
  planOf(meta: DeduplicateOptions | undefined, isEvent: boolean): HandlerPlan;
  /** The dedup key of a message, or why it has none. */
  keyOf(plan: HandlerPlan, message: DedupKafkaMessage, kafka: KafkaContext): DedupKey | MissingKey;
  /** Deduplicates one handler call. */
  run(plan: HandlerPlan, kafka: KafkaContext, fn: () => unknown): unknown;
}

/** Learns how the deduplicated handlers key their topics, so a server can claim ahead. @internal */
export interface PlanSink {
  learn(topic: string, plan: HandlerPlan, runner: HandlerRunner): void;
}

/**
 * The `KafkaContext` of a message delivered by a server that claims ids itself (`DedupKafkaServer`
 * claims a whole batch at once). The runner tells `sink` each handler's plan; when the server
 * already claimed the message's id (`preClaimed`), the runner only runs the handler and the server
 * commits or releases the claim.
 * @internal
 */
export class PreClaimContext extends KafkaContext {
  constructor(
    args: ConstructorParameters<typeof KafkaContext>[0],
    readonly sink: PlanSink,
    public preClaimed: boolean,
  ) {
    super(args);
  }
}
