import { DedupOptionsError } from '../../errors/dedup.errors';
import {
  COLUMNS_SQL,
  DEFAULT_INBOX_TABLE,
  INBOX_COLUMNS,
  inboxMigrationSql,
  parseInboxTable,
  UNIQUE_KEY_SQL,
  type InboxTable,
} from './inbox.sql';
import { rollback } from './inbox.claim';
import {
  isPGlite,
  type PGliteLike,
  type PgPoolLike,
  type PgQueryable,
  type PgResultLike,
} from './inbox.drivers';

/**
 * Creates the inbox table and its indexes when missing (what `postgres.migrate: true` runs at
 * bootstrap), on a node-postgres pool or a PGlite instance. Idempotent; replicas starting together
 * are serialised by a transaction-scoped advisory lock (PGlite, one session, needs none). For your
 * own migration tool, use {@link inboxMigrationSql} or the shipped
 * `migrations/001_kafka_dedup_inbox.sql`.
 *
 * @example
 * await migratePostgresInbox(pool, 'kafka_dedup_inbox');
 * await migratePostgresInbox(pglite);
 */
export async function migratePostgresInbox(
  db: PgPoolLike | PGliteLike,
  table: string | InboxTable = DEFAULT_INBOX_TABLE,
): Promise<void> {
  const parsed = typeof table === 'string' ? parseInboxTable(table) : table;
  if (parsed === undefined) {
    throw new DedupOptionsError(
      'postgres.table',
      table,
      'expected a plain identifier or schema.identifier',
    );
  }
  try {
    if (isPGlite(db)) await db.transaction((tx) => tx.exec(inboxMigrationSql(parsed)));
    else await migrateOnPool(db, parsed);
  } catch (error) {
    throw new DedupOptionsError(
      'postgres.migrate',
      true,
      `the inbox migration of ${parsed.sql} failed: ${(error as Error).message}`,
    );
  }
}

async function migrateOnPool(pool: PgPoolLike, table: InboxTable): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
      `kafka-dedup:migrate:${table.sql}`,
    ]);
    await client.query(inboxMigrationSql(table));
    await client.query('COMMIT');
  } catch (error) {
    broken = await rollback(client);
    throw error;
  } finally {
    client.release(broken);
  }
}

/**
 * Fails the bootstrap, naming `postgres.table`, when the table is missing (unless `allowMissing`)
 * or its schema is not the inbox's (a column missing or of another type, no unique key on
 * `(scope, id)`). @returns whether the table exists. @internal
 */
export async function verifyInboxTable(
  pool: PgQueryable,
  table: InboxTable,
  allowMissing = false,
): Promise<boolean> {
  const regclass = table.sql;
  const { rows } = (await pool.query(COLUMNS_SQL, [regclass])) as PgResultLike;
  const shown = table.schema ? `${table.schema}.${table.name}` : table.name;
  if (rows.length === 0) {
    if (allowMissing) return false;
    throw new DedupOptionsError(
      'postgres.table',
      shown,
      'the table does not exist: run the migration (migrations/001_kafka_dedup_inbox.sql) or set postgres.migrate: true',
    );
  }
  const actual = new Map(rows.map((r) => [String(r.name), String(r.type)]));
  const wrong = Object.entries(INBOX_COLUMNS)
    .filter(([name, type]) => actual.get(name) !== type)
    .map(([name, type]) => `${name} ${type} (found: ${actual.get(name) ?? 'none'})`);
  if (wrong.length > 0) {
    throw new DedupOptionsError(
      'postgres.table',
      shown,
      `not an inbox table: expected columns ${wrong.join(', ')}; use another table name or the shipped migration`,
    );
  }
  const unique = (await pool.query(UNIQUE_KEY_SQL, [regclass])) as PgResultLike;
  if (unique.rows.length === 0) {
    throw new DedupOptionsError(
      'postgres.table',
      shown,
      'not an inbox table: no primary key or unique index on (scope, id), so a claim could not be atomic',
    );
  }
  return true;
}
