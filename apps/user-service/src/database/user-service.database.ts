import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { Pool, type PoolClient } from 'pg';
import type { InboxClient } from '@nest-resilience/kafka-dedup';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { repoFile } from '../../../shared/repo-file';
import type { UserServiceConfig } from '../config/user-service.env';
import { userServiceSchema } from './users.schema';

/** The drizzle database both drivers give: one schema, one query API. */
export type UserServiceDb = PgDatabase<PgQueryResultHKT, typeof userServiceSchema>;

/** A transaction of {@link UserServiceDb} (what a handler writes through). */
export type UserServiceTx = Parameters<Parameters<UserServiceDb['transaction']>[0]>[0];

/**
 * The one injectable way to the database: embedded PGlite by default, node-postgres when
 * `DATABASE_URL` is set. Migrations (the SQL files in `apps/user-service/migrations`) run when it
 * opens; the connection closes at application shutdown. Everything else injects this class, so a
 * transaction manager (e.g. `@nestjs-cls/transactional` with its drizzle adapter) can later take
 * over `db` in one place.
 */
export class UserServiceDatabase implements OnApplicationShutdown {
  private static readonly logger = new Logger('UserServiceDatabase');

  private constructor(
    /** The drizzle handle. */
    readonly db: UserServiceDb,
    /** `pglite` or `postgres`: a bounded label for health and logs. */
    readonly driver: 'pglite' | 'postgres',
    private readonly close: () => Promise<void>,
    /** The node-postgres pool (PostgreSQL only), shared with the dedup inbox store. */
    readonly pool?: Pool,
    /** The embedded PGlite instance (PGlite only), shared with the dedup inbox store. */
    readonly pglite?: PGlite,
  ) {}

  /** Opens the configured database and brings its schema up to date. */
  static async open(
    config: Pick<UserServiceConfig, 'databaseUrl' | 'pgliteDataDir'>,
  ): Promise<UserServiceDatabase> {
    const migrationsFolder = repoFile('apps/user-service/migrations');
    if (config.databaseUrl) {
      // consumer partitions in flight (each may hold an inbox transaction) + HTTP/gRPC reads
      const pool = new Pool({ connectionString: config.databaseUrl, max: 8 });
      // PostgreSQL going away (stopped, restarted, failed over) is emitted as 'error' on the pool
      // for an idle connection and on the client for a checked-out one: with no listener either
      // would crash the process. The query in flight, or the next one, fails instead (Kafka
      // redelivers), and /health/ready reports the database down until it answers again.
      pool.on('error', (error) =>
        this.logger.warn(`PostgreSQL idle connection failed: ${error.message}`),
      );
      pool.on('connect', (client) => client.on('error', () => undefined));
      const db = drizzlePg(pool, { schema: userServiceSchema });
      try {
        // Several replicas may start together: one migrates, the others wait for its lock.
        const lock = await pool.connect();
        try {
          await lock.query("SELECT pg_advisory_lock(hashtext('user-service:migrations'))");
          await migratePg(db, { migrationsFolder });
        } finally {
          await lock
            .query("SELECT pg_advisory_unlock(hashtext('user-service:migrations'))")
            .catch(() => undefined);
          lock.release();
        }
      } catch (error) {
        await pool.end().catch(() => undefined);
        throw error;
      }
      this.logger.log(`PostgreSQL ready (${redact(config.databaseUrl)}), migrations applied`);
      return new UserServiceDatabase(db, 'postgres', () => pool.end(), pool);
    }
    const client = new PGlite(config.pgliteDataDir);
    const db = drizzlePglite(client, { schema: userServiceSchema });
    await migratePglite(db, { migrationsFolder });
    this.logger.log(`embedded PGlite ready (${config.pgliteDataDir}), migrations applied`);
    return new UserServiceDatabase(db, 'pglite', () => client.close(), undefined, client);
  }

  /**
   * A drizzle handle on the dedup inbox transaction's client (`getInboxClient()`): the pool's
   * connection on PostgreSQL, PGlite's `Transaction` on PGlite. What it writes commits or rolls
   * back with the event's inbox record.
   */
  onInboxClient(client: InboxClient): UserServiceDb {
    return this.driver === 'postgres'
      ? drizzlePg(client as PoolClient, { schema: userServiceSchema })
      : // drizzle-orm/pglite runs every statement through the client's query(): a Transaction works.
        drizzlePglite(client as unknown as PGlite, { schema: userServiceSchema });
  }

  /** `SELECT 1`, for the health check. */
  async ping(): Promise<void> {
    await this.db.execute(sql`SELECT 1`);
  }

  /** Runs after the Kafka consumer and gRPC server have stopped (Nest closes them first). */
  async onApplicationShutdown(signal?: string): Promise<void> {
    await this.close();
    UserServiceDatabase.logger.log(`${this.driver} closed${signal ? ` (${signal})` : ''}`);
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}
