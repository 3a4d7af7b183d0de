import { Module } from '@nestjs/common';
import { UserEventsController } from './user-events/user-events.controller';

/** Root module of the sample user-service. */
@Module({ controllers: [UserEventsController] })
export class AppModule {}
