import { rollback } from './inbox.claim';
import type { PgPoolClientLike, PgPoolLike, PgResultLike } from './inbox.drivers';

/** What the body of a {@link pooledTransaction} answers: its value, and whether to commit. @internal */
export interface PooledOutcome<R> {
  readonly value: R;
  /** false: roll back and answer `value` (e.g. a duplicate: nothing to keep). */
  readonly commit: boolean;
}

/** A step of a pooled transaction that failed outside the body. @internal */
export type PooledStage = 'connect' | 'commit';

/**
 * The end of a transaction on a pooled node-postgres client, for the inbox's per-message and batch
 * transactions alike: checks out a client, runs `body` (which opens the transaction), then either
 * `COMMIT` or — when `body` threw or asked for it — `ROLLBACK`; the client goes back to the pool,
 * discarded when the connection is unusable. A `COMMIT` answered `ROLLBACK` (a statement error the
 * handler caught aborted the transaction: nothing was written, the claim neither) is a failure, so
 * the message comes back rather than counting as done. `fail` shapes the failures of connect and
 * commit; `body`'s own error is rethrown as it is, after the rollback.
 * @internal
 */
export async function pooledTransaction<R>(
  pool: PgPoolLike,
  body: (client: PgPoolClientLike) => Promise<PooledOutcome<R>>,
  fail: (stage: PooledStage, error: unknown) => unknown = (_stage, error) => error,
): Promise<R> {
  let client: PgPoolClientLike;
  try {
    client = await pool.connect();
  } catch (error) {
    throw fail('connect', error);
  }
  let broken: Error | undefined;
  try {
    let outcome: PooledOutcome<R>;
    try {
      outcome = await body(client);
    } catch (error) {
      broken = await rollback(client);
      throw error;
    }
    if (!outcome.commit) {
      broken = await rollback(client);
      return outcome.value;
    }
    let commit: PgResultLike;
    try {
      commit = (await client.query('COMMIT')) as PgResultLike;
    } catch (error) {
      // Committed or not, the redelivery finds out: a duplicate if it was, processed if not.
      broken = error as Error;
      throw fail('commit', error);
    }
    if (commit.command !== 'COMMIT') throw fail('commit', new Error(ABORTED));
    return outcome.value;
  } finally {
    client.release(broken);
  }
}

const ABORTED =
  'the transaction was aborted by a statement error a handler caught; nothing was written';
