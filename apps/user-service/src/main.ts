import './process-warnings'; // first: before kafkajs schedules its first timer
import { Logger } from '@nestjs/common';
import { createUserServiceApp } from './user-service.app';

async function bootstrap(): Promise<void> {
  const { app, start } = await createUserServiceApp();
  await start();
  new Logger('user-service').log(`listening on ${await app.getUrl()}`);
}

bootstrap().catch((error: unknown) => {
  new Logger('user-service').error(`start failed: ${(error as Error).message}`);
  process.exit(1);
});
