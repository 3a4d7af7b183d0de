import { defineConfig } from 'drizzle-kit';

/** `npx drizzle-kit generate --config apps/user-service/drizzle.config.ts` writes a new migration. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './apps/user-service/src/database/users.schema.ts',
  out: './apps/user-service/migrations',
});
