import { KafkaContext } from '@nestjs/microservices';
import type { DedupRunner, HandlerPlan } from '../dedup.runner';

/** Where deduplicated handlers report how they key their topic, so batches can be pre-claimed. @internal */
export interface BatchPlanSink {
  learn(topic: string, plan: HandlerPlan, runner: DedupRunner): void;
}

/**
 * The `KafkaContext` of a message handled by `DedupKafkaServer`. When the batch already claimed
 * the message's id (`preClaimed`), `@Deduplicate()` only runs the handler: the server commits or
 * releases the claim with the rest of the batch.
 * @internal
 */
export class DedupBatchContext extends KafkaContext {
  constructor(
    args: ConstructorParameters<typeof KafkaContext>[0],
    readonly sink: BatchPlanSink,
    public preClaimed: boolean,
  ) {
    super(args);
  }
}
