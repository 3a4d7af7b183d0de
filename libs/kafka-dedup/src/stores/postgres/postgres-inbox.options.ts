import { DedupOptionsError } from '../../errors/dedup.errors';
import { isPGlite, type PGliteLike, type PgPoolLike } from './inbox.drivers';
import { DEFAULT_INBOX_TABLE, parseInboxTable, type InboxTable } from './inbox.sql';
import { bool, positiveInt } from '../../options/option-checks';

/** PostgreSQL inbox store settings (with `store: 'postgres'`). */
export interface DedupPostgresOptions {
  /**
   * An existing node-postgres `Pool` (not closed by the module), e.g. the one your Drizzle
   * instance wraps. Give exactly one of `pool`, `connectionString` and `pglite`.
   */
  pool?: PgPoolLike;
  /** `postgres://user@host:5432/db`; the module creates (and closes) its own `pg.Pool`. */
  connectionString?: string;
  /**
   * An embedded PGlite instance (`new PGlite(…)` of `@electric-sql/pglite`; not closed by the
   * module), e.g. the one your Drizzle instance wraps. PGlite is one session: inbox transactions
   * are serialised by its transaction mutex, and a handler writes through the transaction it gets
   * from `getInboxClient<Transaction>()` / `InboxTransaction` (a statement on the instance itself
   * would wait for that transaction to end).
   */
  pglite?: PGliteLike;
  /**
   * Extra node-postgres `PoolConfig` for the pool the module creates (`max`, `ssl`,
   * `statement_timeout`, `connectionTimeoutMillis`, …). @default { max: 10, connectionTimeoutMillis: 5000 }
   */
  config?: Record<string, unknown>;
  /** Inbox table, optionally schema-qualified (`inbox.kafka_dedup`). @default 'kafka_dedup_inbox' */
  table?: string;
  /**
   * Create the table and its indexes at bootstrap when missing (idempotent, serialised across
   * replicas by an advisory lock). Set `false` when you run the shipped migration yourself.
   * @default true
   */
  migrate?: boolean;
  /**
   * Run each inbox transaction through `@nestjs-cls/transactional`'s `TransactionHost` (`true`:
   * the default connection; a string: that `connectionName`), so `@Transactional()` methods and
   * `txHost.tx` (Drizzle, pg, …) join it. `false`: the store opens the transaction on its own pool;
   * reach it with `InboxTransaction` / `getInboxClient()`. @default false
   */
  transactionHost?: boolean | string;
  /**
   * The consumer's kafkajs `partitionsConsumedConcurrently`: each partition in flight holds one
   * pooled connection for its transaction, so the pool must allow at least this many plus one
   * (the TTL sweep, health checks). @default 1
   */
  partitionsConsumedConcurrently?: number;
  /** Rows deleted per statement by the TTL sweep (each batch is its own short transaction). @default 1000 */
  sweepBatchSize?: number;
  /**
   * Batch mode (`DedupKafkaServer`) only: run each chunk of a fetched batch (one partition) in ONE
   * transaction — its ids claimed in one statement, the handlers of the new ids in order on that
   * transaction, one COMMIT — instead of one transaction per message. When a handler throws at
   * message k, the transaction rolls back, messages before k run again in a fresh one and commit,
   * and k is redelivered: their side effects outside the database happen again. @default false
   */
  batchTransactions?: boolean;
  /** Messages per batch transaction at most (`batchTransactions`). @default 500 */
  batchMaxMessages?: number;
  /**
   * A batch transaction takes no further message once its handlers have run this long, in ms
   * (`batchTransactions`): bounds how long its locks are held and how much a throw re-runs.
   * @default 1000
   */
  batchMaxMs?: number;
}

/** `postgres` options after validation. @internal */
export interface ResolvedPostgresOptions {
  pool?: PgPoolLike;
  connectionString?: string;
  pglite?: PGliteLike;
  config: Record<string, unknown>;
  table: InboxTable;
  migrate: boolean;
  /** `undefined`: no TransactionHost; `''`: the default connection. */
  transactionHost?: string;
  partitionsConsumedConcurrently: number;
  sweepBatchSize: number;
  /** Connections the pool may open (1 for PGlite: one session). */
  poolMax: number;
  /** `batchTransactions` with its caps; `undefined` when off. */
  batch?: { maxMessages: number; maxMs: number };
}

const KNOWN = new Set([
  'pool',
  'connectionString',
  'pglite',
  'config',
  'table',
  'migrate',
  'transactionHost',
  'partitionsConsumedConcurrently',
  'sweepBatchSize',
  'batchTransactions',
  'batchMaxMessages',
  'batchMaxMs',
]);

/** node-postgres' own default of `max`. */
const PG_DEFAULT_MAX = 10;

/**
 * Validates `postgres: { … }` at module creation, naming the option and the value. Needs no `pg`:
 * a pool is recognised by shape.
 * @internal
 */
export function resolvePostgresOptions(postgres: unknown): ResolvedPostgresOptions {
  if (typeof postgres !== 'object' || postgres === null || Array.isArray(postgres)) {
    throw new DedupOptionsError(
      'postgres',
      postgres,
      'expected { pool }, { connectionString } or { pglite } with store: "postgres"',
    );
  }
  const options = postgres as Record<string, unknown>;
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name))
      throw new DedupOptionsError(`postgres.${name}`, options[name], 'unknown option');
  }
  const pool = options.pool as PgPoolLike | undefined;
  if (pool !== undefined && (typeof pool !== 'object' || typeof pool.connect !== 'function')) {
    throw new DedupOptionsError('postgres.pool', '{…}', 'expected a node-postgres Pool');
  }
  const pglite = options.pglite as PGliteLike | undefined;
  if (pglite !== undefined && !isPGlite(pglite)) {
    throw new DedupOptionsError(
      'postgres.pglite',
      '{…}',
      'expected a PGlite instance (new PGlite() of @electric-sql/pglite)',
    );
  }
  const connectionString = options.connectionString;
  const given = [pool, connectionString, pglite].filter((c) => c !== undefined).length;
  if (given === 0) {
    throw new DedupOptionsError(
      'postgres.connectionString',
      undefined,
      'give postgres.pool, postgres.connectionString or postgres.pglite (no connection configured)',
    );
  }
  if (given > 1) {
    const [option, value] =
      pglite === undefined
        ? ['postgres.connectionString', connectionString]
        : ['postgres.pglite', '{…}'];
    throw new DedupOptionsError(
      option,
      value,
      'give one of postgres.pool, postgres.connectionString and postgres.pglite',
    );
  }
  if (
    connectionString !== undefined &&
    (typeof connectionString !== 'string' || !/^postgres(ql)?:\/\//.test(connectionString))
  ) {
    throw new DedupOptionsError(
      'postgres.connectionString',
      connectionString,
      'expected a postgres:// or postgresql:// URL',
    );
  }
  const config = options.config ?? {};
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new DedupOptionsError('postgres.config', config, 'expected a pg PoolConfig object');
  }
  if (connectionString === undefined && options.config !== undefined) {
    throw new DedupOptionsError(
      'postgres.config',
      '{…}',
      'only meaningful with postgres.connectionString (configure your own pool directly)',
    );
  }
  const tableName = options.table ?? DEFAULT_INBOX_TABLE;
  const table = typeof tableName === 'string' ? parseInboxTable(tableName) : undefined;
  if (table === undefined) {
    throw new DedupOptionsError(
      'postgres.table',
      tableName,
      'expected a plain identifier or schema.identifier ([A-Za-z_][A-Za-z0-9_]*)',
    );
  }
  const transactionHost = options.transactionHost ?? false;
  if (typeof transactionHost !== 'boolean' && typeof transactionHost !== 'string') {
    throw new DedupOptionsError(
      'postgres.transactionHost',
      transactionHost,
      'expected true, false or a connectionName',
    );
  }
  const partitions = positiveInt(
    'postgres.partitionsConsumedConcurrently',
    options.partitionsConsumedConcurrently,
    1,
  );
  // PGlite: one session, every transaction waits for its mutex; nothing to size.
  const poolMax = pglite ? 1 : poolMaxOf(pool, config as Record<string, unknown>);
  if (pglite === undefined && poolMax < partitions + 1) {
    throw new DedupOptionsError(
      pool ? 'postgres.pool' : 'postgres.config.max',
      poolMax,
      `a pool of ${poolMax} connection(s) is too small for postgres.partitionsConsumedConcurrently = ${partitions}: ` +
        `each partition in flight holds a connection for its transaction; allow at least ${partitions + 1}`,
    );
  }
  return {
    pool,
    connectionString: connectionString as string | undefined,
    pglite,
    config: config as Record<string, unknown>,
    table,
    migrate: bool('postgres.migrate', options.migrate, true),
    transactionHost:
      transactionHost === false ? undefined : transactionHost === true ? '' : transactionHost,
    partitionsConsumedConcurrently: partitions,
    sweepBatchSize: positiveInt('postgres.sweepBatchSize', options.sweepBatchSize, 1000),
    poolMax,
    batch: bool('postgres.batchTransactions', options.batchTransactions, false)
      ? {
          maxMessages: positiveInt('postgres.batchMaxMessages', options.batchMaxMessages, 500),
          maxMs: positiveInt('postgres.batchMaxMs', options.batchMaxMs, 1000),
        }
      : undefined,
  };
}

function poolMaxOf(pool: PgPoolLike | undefined, config: Record<string, unknown>): number {
  const max = pool ? pool.options?.max : config.max;
  if (max === undefined) return PG_DEFAULT_MAX;
  if (typeof max !== 'number' || !Number.isInteger(max) || max <= 0) {
    throw new DedupOptionsError(
      pool ? 'postgres.pool' : 'postgres.config.max',
      max,
      'expected a pool max of at least 1',
    );
  }
  return max;
}
