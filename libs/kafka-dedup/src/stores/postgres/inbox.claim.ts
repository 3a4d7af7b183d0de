import type { DedupKey } from '../../interfaces/dedup-key.interface';
import { LastKeyCache } from '../../util/last-key.cache';
import {
  executeClaimSql,
  preparedClaimSql,
  textLiteral,
  type InboxTable,
  type PreparedClaimSql,
} from './inbox.sql';
import type { PgQueryable, PgResultLike } from './inbox.drivers';

/** SQLSTATE `invalid_sql_statement_name`: `EXECUTE` of a statement the connection does not have. */
const MISSING_STATEMENT = '26000';
/** SQLSTATE `duplicate_prepared_statement`: `PREPARE` of a name the connection already has. */
const DUPLICATE_STATEMENT = '42P05';

/**
 * Names of the claim statements prepared on each connection, for the whole process: every store
 * of a table prepares the same statement under the same name, so stores sharing a pool must not
 * prepare it twice. Weak: a connection the pool drops takes its entry along; a new one starts empty.
 */
const preparedOn = new WeakMap<object, Set<string>>();

/**
 * Opens an inbox transaction with its claim in one round trip: `BEGIN; EXECUTE <claim>(…)`, with the
 * `PREPARE` in front on a connection's first claim. A connection that lost the statement (26000:
 * `DISCARD ALL`, a pool's reset query, PgBouncer handing over another server connection) is rolled
 * back and gets `PREPARE; BEGIN; EXECUTE` once more; one that had it already without this process
 * knowing (42P05) gets `BEGIN; EXECUTE`. Prepared statements outlive a rollback, so the retry runs
 * in a fresh transaction whatever the failed attempt left.
 * @internal
 */
export class InboxClaim {
  private readonly statement: PreparedClaimSql;
  // Consecutive messages mostly share a scope (the topic): escape it once.
  private readonly scopeLiterals = new LastKeyCache(textLiteral);

  constructor(table: InboxTable) {
    this.statement = preparedClaimSql(table);
  }

  /** The statement's name (`kafka_dedup_claim_<hash>`). */
  get name(): string {
    return this.statement.name;
  }

  /**
   * Runs `BEGIN` and the claim of `key` on `client`.
   * @returns true when `key` was claimed (process it), false for a duplicate; either way the
   * transaction is open.
   * @throws what PostgreSQL answered; the transaction is then aborted, or none is open: roll back.
   */
  async begin(client: PgQueryable, key: DedupKey, ttl: number): Promise<boolean> {
    const name = this.statement.name;
    let prepared = preparedOn.get(client);
    if (prepared === undefined) {
      prepared = new Set();
      preparedOn.set(client, prepared);
    }
    const claim = `BEGIN; ${executeClaimSql(name, this.scopeLiterals.get(key.scope), key.id, ttl)}`;
    let prepare = !prepared.has(name);
    for (let retried = false; ; retried = true) {
      try {
        const results = (await client.query(
          prepare ? `${this.statement.prepare}; ${claim}` : claim,
        )) as PgResultLike[];
        if (prepare) prepared.add(name);
        return results[results.length - 1].rowCount === 1;
      } catch (error) {
        const code = (error as { code?: unknown } | undefined)?.code;
        // Any other failure is the caller's (it rolls back). When that attempt included PREPARE,
        // the statement stays unrecorded: the next claim prepares again and learns from 42P05.
        if (retried || (code !== MISSING_STATEMENT && code !== DUPLICATE_STATEMENT)) throw error;
        if (code === MISSING_STATEMENT) prepared.delete(name);
        else prepared.add(name);
        prepare = code === MISSING_STATEMENT;
        const broken = await rollback(client);
        if (broken !== undefined) throw error;
      }
    }
  }
}

/**
 * Rolls back; answers the error when the connection is unusable (the pool then discards it).
 * @internal
 */
export async function rollback(client: PgQueryable): Promise<Error | undefined> {
  try {
    await client.query('ROLLBACK');
    return undefined;
  } catch (error) {
    return error as Error;
  }
}
