import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext, Payload } from '@nestjs/microservices';
import { Deduplicate } from '@nest-resilience/kafka-dedup';
import { loadUserServiceConfig } from '../user-service.config';

const { userEventsTopic } = loadUserServiceConfig();

/** Consumes the user CDC stream; a redelivered event (same `x-event-id`) is skipped. */
@Controller()
export class UserEventsController {
  private readonly logger = new Logger(UserEventsController.name);

  @EventPattern<string>(userEventsTopic)
  @Deduplicate()
  handleUserEvent(@Payload() event: unknown, @Ctx() ctx: KafkaContext): void {
    const message = ctx.getMessage();
    this.logger.log(
      `consumed ${ctx.getTopic()}[${ctx.getPartition()}]@${message.offset}: ${JSON.stringify(event)}`,
    );
  }
}
