import { DedupStoreError } from '../../errors/dedup.errors';
import type { TransactionOutcome } from '../../interfaces/dedup-key.interface';

const DUPLICATE = { duplicate: true } as const;

/**
 * How one inbox transaction runs on a driver that owns `BEGIN`/`COMMIT` itself (PGlite's
 * `transaction()`, a `TransactionHost`): the steps {@link runClaimedTransaction} puts in order.
 * @internal
 */
export interface ClaimedTransactionSteps {
  /** Runs `body` between BEGIN and COMMIT (ROLLBACK when it throws). */
  transaction<R>(body: () => Promise<R>): Promise<R>;
  /** Inserts the claim; answers the rows inserted (1: new, 0: duplicate). */
  claim(): Promise<number>;
  /** Ends a duplicate's transaction early (PGlite rolls it back); else the empty one commits. */
  abandon?(): Promise<void>;
  /** Runs the handler inside the transaction (with its inbox client, where there is one). */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Throws when the transaction cannot commit what it did (aborted, or closed by the handler). */
  check(): Promise<void>;
}

/**
 * Claim, handler, commit in one transaction: no row inserted → duplicate; the handler's own error
 * passes through as it is; a failure of the driver (BEGIN, the claim, an aborted transaction,
 * COMMIT) becomes a {@link DedupStoreError} naming the step, so Kafka redelivers the message.
 * @internal
 */
export async function runClaimedTransaction<T>(
  steps: ClaimedTransactionSteps,
  fn: () => Promise<T>,
  store: string,
): Promise<TransactionOutcome<T>> {
  // Set inside the transaction's callback, read after it: declared wide so TS does not narrow it.
  let stage = 'transaction' as 'transaction' | 'handler' | 'commit';
  let duplicate = false;
  try {
    const result = await steps.transaction(async () => {
      let inserted: number;
      try {
        inserted = await steps.claim();
      } catch (error) {
        throw new DedupStoreError('claim', store, { cause: error });
      }
      if (inserted !== 1) {
        duplicate = true;
        await steps.abandon?.();
        return undefined;
      }
      stage = 'handler';
      const value = await steps.run(fn);
      stage = 'transaction';
      try {
        await steps.check();
      } catch (error) {
        throw new DedupStoreError('commit', store, { cause: error });
      }
      stage = 'commit';
      return value;
    });
    return duplicate ? DUPLICATE : { duplicate: false, result: result as T };
  } catch (error) {
    if (stage === 'handler' || error instanceof DedupStoreError) throw error;
    // BEGIN or the connection failed, or COMMIT did (or answered ROLLBACK: a statement error the
    // handler caught aborted the transaction; nothing was written, the claim neither).
    throw new DedupStoreError(stage, store, { cause: error });
  }
}
