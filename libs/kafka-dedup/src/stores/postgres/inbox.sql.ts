import { createHash } from 'node:crypto';
import type { DedupKey } from '../../interfaces/dedup-key.interface';

/** The inbox table when `postgres.table` is not given. */
export const DEFAULT_INBOX_TABLE = 'kafka_dedup_inbox';

/** The columns the store reads and writes, with the types `information_schema` reports. @internal */
export const INBOX_COLUMNS: Readonly<Record<string, string>> = {
  scope: 'text',
  id: 'bytea',
  expires_at: 'timestamp with time zone',
  token: 'text',
};

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** A validated table name: quoted for SQL, and its parts for catalog look-ups. @internal */
export interface InboxTable {
  /** `"schema"."table"` or `"table"`. */
  readonly sql: string;
  readonly schema?: string;
  readonly name: string;
  /** Name of the expiry index (the sweep's range scan). */
  readonly expiryIndex: string;
}

/**
 * Parses `table` or `schema.table` (plain identifiers only: no quoting games in a config value).
 * @returns undefined when the name is not a plain (optionally schema-qualified) identifier.
 * @internal
 */
export function parseInboxTable(table: string): InboxTable | undefined {
  const parts = table.split('.');
  if (parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) return undefined;
  const name = parts[parts.length - 1];
  const schema = parts.length === 2 ? parts[0] : undefined;
  return {
    sql: parts.map((p) => `"${p}"`).join('.'),
    schema,
    name,
    expiryIndex: `${name.slice(0, 48)}_expires_at_idx`,
  };
}

/**
 * The migration, for your own migration tool: the inbox table and its indexes. The primary key
 * `(scope, id)` is what makes the claim atomic (a concurrent copy blocks on it until the first
 * transaction ends); the `expires_at` index keeps the TTL sweep a range scan. `token` is NULL for a
 * done id, the owner of a lease otherwise (only the non-transactional `claim()` path takes leases).
 * Idempotent.
 *
 * @example
 * await queryRunner.query(inboxMigrationSql('app.kafka_inbox'));
 */
export function inboxMigrationSql(tableName: string | InboxTable = DEFAULT_INBOX_TABLE): string {
  const table = typeof tableName === 'string' ? parseInboxTable(tableName) : tableName;
  if (table === undefined) throw new Error(`not a plain (schema.)table name: ${String(tableName)}`);
  // An index always lives in its table's schema: its name is never qualified.
  return [
    `CREATE TABLE IF NOT EXISTS ${table.sql} (`,
    `  scope text NOT NULL,`,
    `  id bytea NOT NULL,`,
    `  expires_at timestamptz NOT NULL,`,
    `  token text,`,
    `  PRIMARY KEY (scope, id)`,
    `);`,
    `CREATE INDEX IF NOT EXISTS "${table.expiryIndex}" ON ${table.sql} (expires_at);`,
  ].join('\n');
}

/**
 * A text literal, escaped the way node-postgres' `escapeLiteral` does (doubled quotes; `E''` with
 * doubled backslashes when there are any), so it is right whatever `standard_conforming_strings` is.
 * @internal
 */
export function textLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('a PostgreSQL text value cannot contain NUL');
  const escaped = value.replace(/'/g, "''");
  return value.includes('\\') ? `E'${escaped.replace(/\\/g, '\\\\')}'` : `'${escaped}'`;
}

/** A bytea literal through `decode(hex)`: independent of escape settings. @internal */
export function byteaLiteral(id: string | Buffer): string {
  const bytes = typeof id === 'string' ? Buffer.from(id, 'utf8') : id;
  return `decode('${bytes.toString('hex')}', 'hex')`;
}

/** `now() + <ms>`: the server's clock decides expiry, so replicas' clocks never matter. @internal */
export function expiresIn(ms: number): string {
  return `now() + interval '${durationLiteral(ms)} milliseconds'`;
}

/** A duration in ms, checked to be a non-negative integer before it is written into SQL. */
function durationLiteral(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new Error(`invalid duration ${ms}`);
  return ms;
}

/**
 * The transactional claim: inserts the done record; 1 row means "process", 0 a duplicate (a live
 * or expired-but-unswept record: ids are remembered at least `ttl`). Literal values only, so it
 * can share one simple-protocol round trip with `BEGIN` and run through any client or ORM that
 * executes raw SQL.
 * @internal
 */
export function claimInTransactionSql(table: InboxTable, key: DedupKey, ttl: number): string {
  return (
    `INSERT INTO ${table.sql} (scope, id, expires_at) VALUES (` +
    `${textLiteral(key.scope)}, ${byteaLiteral(key.id)}, ${expiresIn(ttl)}) ` +
    `ON CONFLICT (scope, id) DO NOTHING`
  );
}

/**
 * The claim of a batch transaction: every key in one `INSERT … SELECT … FROM unnest(<ids>) …
 * ON CONFLICT DO NOTHING RETURNING encode(id, 'hex')` (the rows inserted are the new keys; with
 * several scopes in `keys`, `scope` is returned too). The ids travel as ONE array literal of hex
 * texts, decoded per row at execution: PostgreSQL parses one constant instead of an expression
 * tree per row (a multi-row `VALUES` of `decode(…)` calls per key cost ~10–20 µs more PostgreSQL
 * CPU per event in `npm run bench:consumer -- --only inbox-batch`). Literal values, so it shares one round trip with `BEGIN`. Rows are inserted in the
 * order of `keys` (`ORDER BY` the array position): the caller sorts them the same way in every
 * transaction, so two transactions claiming common ids lock them in one order (no deadlock).
 * `hexes`: the ids already as hex (`hexes[i]` of `keys[i]`), when the caller has them.
 * @internal
 */
export function claimManySql(
  table: InboxTable,
  keys: readonly DedupKey[],
  ttl: number,
  hexes?: readonly string[],
): string {
  const { from, scope } = keySet(keys, hexes);
  return (
    `INSERT INTO ${table.sql} (scope, id, expires_at) ` +
    `SELECT ${scope}, decode(u.h, 'hex'), ${expiresIn(ttl)} FROM ${from} ORDER BY u.n ` +
    `ON CONFLICT (scope, id) DO NOTHING RETURNING ${scope === 'u.s' ? 'scope, ' : ''}encode(id, 'hex') AS h`
  );
}

/** Withdraws claims of a batch transaction its handlers did not reach. @internal */
export function unclaimManySql(table: InboxTable, keys: readonly DedupKey[]): string {
  const { from, scope } = keySet(keys);
  return (
    `DELETE FROM ${table.sql} WHERE (scope, id) IN ` +
    `(SELECT ${scope}, decode(u.h, 'hex') FROM ${from})`
  );
}

/**
 * `keys` as a set-returning `FROM` item `u(h, n)` (hex id, position) — `u(s, h, n)` when the keys
 * have several scopes — and the SQL of a row's scope: the one scope's literal, or `u.s`.
 */
function keySet(
  keys: readonly DedupKey[],
  hexes?: readonly string[],
): { from: string; scope: string } {
  const hex = keys.length === 0 ? '' : `"${(hexes ?? keys.map((k) => hexOf(k.id))).join('","')}"`;
  const first = keys[0]?.scope ?? '';
  if (keys.every((k) => k.scope === first)) {
    return {
      from: `unnest('{${hex}}'::text[]) WITH ORDINALITY AS u(h, n)`,
      scope: textLiteral(first),
    };
  }
  const scopes = keys.map((k) => textLiteral(k.scope)).join(', ');
  return {
    from: `unnest(ARRAY[${scopes}]::text[], '{${hex}}'::text[]) WITH ORDINALITY AS u(s, h, n)`,
    scope: 'u.s',
  };
}

function hexOf(id: string | Buffer): string {
  return (typeof id === 'string' ? Buffer.from(id, 'utf8') : id).toString('hex');
}

/** The claim prepared once per connection, and how each message runs it. @internal */
export interface PreparedClaimSql {
  /**
   * `kafka_dedup_claim_<hash of the statement>`: the same for every store of a table, so stores
   * sharing a pool share the statement, and different for different tables.
   */
  readonly name: string;
  /** `PREPARE <name>(text, bytea, bigint) AS INSERT … ON CONFLICT (scope, id) DO NOTHING`. */
  readonly prepare: string;
}

/**
 * The claim of {@link claimInTransactionSql} as an SQL-level prepared statement: PostgreSQL parses
 * and plans it once per connection instead of once per message, and `EXECUTE` still rides in the
 * simple-protocol round trip of `BEGIN` (a protocol-level prepared statement could not).
 * @internal
 */
export function preparedClaimSql(table: InboxTable): PreparedClaimSql {
  const body =
    `(text, bytea, bigint) AS INSERT INTO ${table.sql} (scope, id, expires_at) ` +
    `VALUES ($1, $2, now() + $3 * interval '1 millisecond') ON CONFLICT (scope, id) DO NOTHING`;
  const name = `kafka_dedup_claim_${createHash('sha256').update(body).digest('hex').slice(0, 16)}`;
  return { name, prepare: `PREPARE ${name}${body}` };
}

/**
 * `EXECUTE <name>(<scope>, <id>, <ttl>)` with literal arguments (escaped as in
 * {@link claimInTransactionSql}); `scope` is an already escaped {@link textLiteral}.
 * @internal
 */
export function executeClaimSql(
  name: string,
  scope: string,
  id: string | Buffer,
  ttl: number,
): string {
  return `EXECUTE ${name}(${scope}, ${byteaLiteral(id)}, ${durationLiteral(ttl)})`;
}

/**
 * Statements of the lease protocol (`claim` → `commit` | `release`) for callers of
 * `DedupService.acquire()` outside a transaction. Parameters: $1 scope, $2 id (bytea).
 * @internal
 */
export function leaseSql(table: InboxTable) {
  const t = table.sql;
  return {
    /** $3 lease ms, $4 token → one row `{ claimed, done }`. An expired row (lease or done) is taken over. */
    claim:
      `WITH ins AS (INSERT INTO ${t} AS t (scope, id, expires_at, token) ` +
      `VALUES ($1, $2, now() + $3 * interval '1 millisecond', $4) ` +
      `ON CONFLICT (scope, id) DO UPDATE SET expires_at = EXCLUDED.expires_at, token = EXCLUDED.token ` +
      `WHERE t.expires_at <= now() RETURNING 1) ` +
      `SELECT (SELECT count(*) FROM ins)::int AS claimed, ` +
      `(SELECT token IS NULL FROM ${t} WHERE scope = $1 AND id = $2) AS done`,
    /** $3 ttl ms, $4 token */
    commit:
      `UPDATE ${t} SET token = NULL, expires_at = now() + $3 * interval '1 millisecond' ` +
      `WHERE scope = $1 AND id = $2 AND token = $4`,
    /** $3 token */
    release: `DELETE FROM ${t} WHERE scope = $1 AND id = $2 AND token = $3`,
    /** $3 lease ms, $4 token */
    renew:
      `UPDATE ${t} SET expires_at = now() + $3 * interval '1 millisecond' ` +
      `WHERE scope = $1 AND id = $2 AND token = $4`,
    /** $3 ttl ms → rowCount 1 when newly marked (the check-and-mark of `processOrSkip`). */
    mark:
      `INSERT INTO ${t} AS t (scope, id, expires_at) VALUES ($1, $2, now() + $3 * interval '1 millisecond') ` +
      `ON CONFLICT (scope, id) DO UPDATE SET expires_at = EXCLUDED.expires_at, token = NULL ` +
      `WHERE t.expires_at <= now()`,
  };
}

/**
 * One bounded sweep batch: at most $1 expired rows, located through the `expires_at` index and
 * deleted by physical row id; rows another sweeper (a replica) holds are skipped, not waited for.
 * @internal
 */
export function sweepSql(table: InboxTable): string {
  const t = table.sql;
  return (
    `DELETE FROM ${t} WHERE ctid = ANY (ARRAY(` +
    `SELECT ctid FROM ${t} WHERE expires_at < now() LIMIT $1 FOR UPDATE SKIP LOCKED))`
  );
}

/** Live (not expired) records. @internal */
export function sizeSql(table: InboxTable): string {
  return `SELECT count(*)::bigint AS n FROM ${table.sql} WHERE expires_at > now() AND token IS NULL`;
}

/** The table's columns and types, for the bootstrap schema check. $1 regclass text. @internal */
export const COLUMNS_SQL =
  `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type ` +
  `FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`;

/** Whether a unique index covers exactly `(scope, id)`. $1 regclass text. @internal */
export const UNIQUE_KEY_SQL =
  `SELECT 1 FROM pg_index i WHERE i.indrelid = to_regclass($1) AND i.indisunique ` +
  `AND (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord) ` +
  `JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) = ARRAY['scope', 'id']`;
