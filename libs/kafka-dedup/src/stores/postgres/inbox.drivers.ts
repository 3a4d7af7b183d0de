/**
 * The database drivers as far as the inbox store uses them: node-postgres (`pg`) and PGlite, by
 * shape, so apps without either need none of their types. Below every file of the inbox store.
 */

/**
 * What the inbox store needs from a node-postgres client: `query` (the `PoolClient` of the inbox
 * transaction satisfies it). Structural, so apps without `pg` need no `pg` types.
 */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<PgResultLike | PgResultLike[]>;
}

/** A node-postgres `QueryResult` as far as the store reads it. */
export interface PgResultLike {
  rows: Array<Record<string, unknown>>;
  rowCount: number | null;
  command?: string;
}

/** A node-postgres `PoolClient` as far as the store uses it. */
export interface PgPoolClientLike extends PgQueryable {
  release(destroy?: boolean | Error): void;
  on?(event: 'error', listener: (error: Error) => void): unknown;
  off?(event: 'error', listener: (error: Error) => void): unknown;
}

/** A node-postgres `Pool` as far as the store uses it (`new pg.Pool(…)`). */
export interface PgPoolLike extends PgQueryable {
  connect(): Promise<PgPoolClientLike>;
  end(): Promise<void>;
  on?(event: 'error', listener: (error: Error) => void): unknown;
  on?(event: 'connect', listener: (client: PgPoolClientLike) => void): unknown;
  readonly options?: { max?: number };
}

/** A PGlite `Results` as far as the inbox store reads it (`affectedRows`, not node-postgres' `rowCount`). */
export interface PGliteResultsLike {
  rows: Array<Record<string, unknown>>;
  affectedRows?: number;
  command?: string;
}

/**
 * A PGlite `Transaction` (what `pglite.transaction(async (tx) => …)` hands out) as far as the store
 * uses it; `getInboxClient<Transaction>()` gives it to a handler of a PGlite inbox.
 */
export interface PGliteTransactionLike {
  query(text: string, params?: unknown[]): Promise<PGliteResultsLike>;
  exec(text: string): Promise<PGliteResultsLike[]>;
  rollback(): Promise<void>;
  readonly closed: boolean;
}

/**
 * A PGlite instance (`new PGlite(…)` of `@electric-sql/pglite`) as far as the store uses it.
 * Structural, so apps without PGlite need no PGlite types.
 */
export interface PGliteLike {
  query(text: string, params?: unknown[]): Promise<PGliteResultsLike>;
  transaction<T>(callback: (tx: PGliteTransactionLike) => Promise<T>): Promise<T>;
  readonly closed?: boolean;
}

/** True when `value` looks like a PGlite instance (by shape: `transaction` and no pool's `connect`). @internal */
export function isPGlite(value: unknown): value is PGliteLike {
  const candidate = value as Partial<PGliteLike> & { connect?: unknown };
  return (
    typeof candidate?.query === 'function' &&
    typeof candidate.transaction === 'function' &&
    candidate.connect === undefined
  );
}
