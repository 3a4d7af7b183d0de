import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext, Payload } from '@nestjs/microservices';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import { Deduplicate } from '@nest-resilience/kafka-dedup';
import type { Counter } from 'prom-client';
import { ConfigService } from '@nestjs/config';
import { cdcTopicFromEnv, type UserServiceConfig } from '../config/user-service.env';
import { parseUserChange, valueSize } from './cdc-event';
import { CDC_APPLIED_METRIC, CDC_SKIPPED_METRIC } from './cdc.metrics';
import { UserChangesWriter } from './user-changes.writer';

/**
 * Consumes the Debezium user change stream. Deduplicated by the source position
 * (`source.lsn` + `source.txId`), which a connector that restarts uncleanly re-emits unchanged;
 * a message without one (tombstone, not JSON) reaches the handler, which counts and skips it.
 * A write that fails throws: the offset stays uncommitted, Kafka redelivers, and the dedup claim
 * is released so the redelivery is processed.
 */
@Controller()
export class CdcController {
  private readonly logger = new Logger(CdcController.name);
  private readonly maxBytes: number;
  private lastSkipLog = 0;

  constructor(
    private readonly writer: UserChangesWriter,
    config: ConfigService<UserServiceConfig, true>,
    @InjectMetric(CDC_SKIPPED_METRIC) private readonly skipped: Counter<'topic' | 'reason'>,
    @InjectMetric(CDC_APPLIED_METRIC) private readonly applied: Counter<'topic' | 'op'>,
  ) {
    this.maxBytes = config.get('cdcMaxEventBytes', { infer: true });
  }

  @EventPattern<string>(cdcTopicFromEnv())
  @Deduplicate({
    key: { from: 'value', path: ['source.lsn', 'source.txId'] },
    onMissingKey: 'process',
  })
  async onUserChange(@Payload() value: unknown, @Ctx() ctx: KafkaContext): Promise<void> {
    const topic = ctx.getTopic();
    const message = ctx.getMessage();
    const parsed = parseUserChange(value, valueSize(message.value), this.maxBytes);
    if (!parsed.ok) {
      this.skipped.inc({ topic, reason: parsed.reason });
      this.logSkip(parsed.reason, topic, ctx.getPartition(), message.offset);
      return;
    }
    await this.writer.apply(parsed.change, {
      topic,
      partition: ctx.getPartition(),
      offset: message.offset,
    });
    this.applied.inc({ topic, op: parsed.change.op });
  }

  /** At most one line a second: a stream of bad messages must not flood the log. */
  private logSkip(reason: string, topic: string, partition: number, offset: string): void {
    const now = Date.now();
    if (now - this.lastSkipLog < 1000) return;
    this.lastSkipLog = now;
    this.logger.warn(
      `skipped ${topic}[${partition}]@${offset}: ${reason} (counted in ${CDC_SKIPPED_METRIC})`,
    );
  }
}
