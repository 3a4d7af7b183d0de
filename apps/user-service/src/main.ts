import { Logger } from '@nestjs/common';
import { createUserServiceApp } from './user-service.app';
import { loadUserServiceConfig } from './user-service.config';

async function bootstrap(): Promise<void> {
  const config = loadUserServiceConfig();
  const app = await createUserServiceApp(config);
  await app.startAllMicroservices();
  await app.listen(config.httpPort, config.httpHost);
}

bootstrap().catch((error: unknown) => {
  new Logger('user-service').error(`bootstrap failed: ${(error as Error).message}`);
  process.exit(1);
});
