import type { TransactionOutcome } from '../../interfaces/dedup-key.interface';
import { inboxContext } from './inbox.context';
import type { BatchTransactionSteps } from './inbox.batch';
import { runClaimedTransaction } from './inbox.transaction';
import type { PGliteLike, PGliteTransactionLike, PgResultLike } from './inbox.drivers';

/**
 * The inbox store on one PGlite instance. PGlite is a single session: every statement and
 * transaction is serialised by its own mutex, so no pool, no prepared claim, and no advisory lock
 * matter here; a handler must write through the transaction it is given (`getInboxClient()`), as
 * a statement on the instance itself would wait for the transaction the handler runs in.
 * @internal
 */
export class PgliteInboxAdapter {
  constructor(readonly pglite: PGliteLike) {}

  /** One auto-committed statement, its result shaped like node-postgres' (`rowCount`). */
  async query(text: string, values?: unknown[]): Promise<PgResultLike> {
    const result = await this.pglite.query(text, values);
    return { rows: result.rows, rowCount: result.affectedRows ?? null, command: result.command };
  }

  /**
   * `pglite.transaction()` (BEGIN, COMMIT — which throws when it answers ROLLBACK — or ROLLBACK on
   * a throw) with the `claim` statement first: no row inserted → duplicate (rolled back, `fn`
   * skipped); else `fn` runs with the transaction as its inbox client, then commits. A store
   * failure throws {@link DedupStoreError} (`store` names the store); `fn`'s own error is rethrown.
   */
  runInTransaction<T>(
    claim: string,
    fn: () => Promise<T>,
    store: string,
  ): Promise<TransactionOutcome<T>> {
    let tx!: PGliteTransactionLike;
    return runClaimedTransaction(
      {
        transaction: (body) =>
          this.pglite.transaction((opened) => {
            tx = opened;
            return body();
          }),
        claim: async () => (await tx.query(claim)).affectedRows ?? 0,
        abandon: () => tx.rollback(),
        run: (handler) => inboxContext.run(tx, handler),
        check: async () => {
          if (tx.closed) {
            throw new Error('the handler rolled the inbox transaction back; nothing was recorded');
          }
        },
      },
      fn,
      store,
    );
  }

  /** A batch transaction as one `pglite.transaction()`, its handlers on PGlite's `Transaction`. */
  batchSteps(): BatchTransactionSteps {
    let tx!: PGliteTransactionLike;
    return {
      transaction: (first, body) =>
        this.pglite.transaction(async (opened) => {
          tx = opened;
          return body((await tx.query(first)).rows);
        }),
      query: async (sql) => (await tx.query(sql)).rows,
      run: (fn) => inboxContext.run(tx, fn),
      check: async () => {
        if (tx.closed) {
          throw new Error('a handler rolled the inbox transaction back; nothing was recorded');
        }
      },
    };
  }
}
