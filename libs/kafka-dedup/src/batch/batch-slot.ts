import type { KafkaMessage } from 'kafkajs';
import type { HandlerPlan, HandlerRunner, PreClaimContext } from '../dedup.handler-plan';
import type { DedupTokenedKey } from '../interfaces/dedup-key.interface';
import type { BatchSlot } from './batch-claims';

/** How a topic's handler deduplicates, learned from its first deduplicated call. @internal */
export interface LearnedPlan {
  plan: HandlerPlan;
  runner: HandlerRunner;
}
/** A topic whose deduplicated handlers key differently: each claims its own. @internal */
export const MIXED = 'mixed';

/** One message of a batch on its way to the handler. @internal */
export class Slot implements BatchSlot {
  claim?: DedupTokenedKey;
  copyOf?: number;
  skip?: boolean;

  constructor(
    readonly message: KafkaMessage,
    /** The parsed message handed to Nest (null for requests: Nest's own path parses them). */
    readonly context: PreClaimContext | null,
  ) {}

  preClaim(): void {
    if (this.context) this.context.preClaimed = true;
  }
}
