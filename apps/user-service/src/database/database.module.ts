import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { UserServiceConfig } from '../config/user-service.env';
import { UserServiceDatabase } from './user-service.database';

/** Provides {@link UserServiceDatabase}, opened (and migrated) before the app starts. */
@Global()
@Module({
  providers: [
    {
      provide: UserServiceDatabase,
      inject: [ConfigService],
      useFactory: (config: ConfigService<UserServiceConfig, true>) =>
        UserServiceDatabase.open({
          databaseUrl: config.get('databaseUrl', { infer: true }),
          pgliteDataDir: config.get('pgliteDataDir', { infer: true }),
        }),
    },
  ],
  exports: [UserServiceDatabase],
})
export class DatabaseModule {}
