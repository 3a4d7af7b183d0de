import { DedupStoreError } from '../../errors/dedup.errors';
import type { DedupKey } from '../../interfaces/dedup-key.interface';
import type { BatchTransactionBody } from '../dedup.store';
import { inboxContext } from './inbox.context';
import { pooledTransaction } from './inbox.pooled-transaction';
import type { PgPoolClientLike, PgPoolLike, PgResultLike } from './inbox.drivers';
import { claimManySql, unclaimManySql, type InboxTable } from './inbox.sql';

/** A row a statement answered. @internal */
export type InboxRow = Record<string, unknown>;

/**
 * How one batch transaction runs on a driver (a pool, PGlite, a `TransactionHost`): the steps
 * {@link runBatchTransaction} puts in order. @internal
 */
export interface BatchTransactionSteps {
  /**
   * Runs `first` (with `BEGIN` in one round trip where the driver can), then `body` with its rows,
   * then `COMMIT`; `ROLLBACK` when either throws, and a throw when `COMMIT` does not commit.
   */
  transaction<R>(first: string, body: (rows: InboxRow[]) => Promise<R>): Promise<R>;
  /** One more statement in the transaction. */
  query(sql: string): Promise<InboxRow[]>;
  /** Runs the handlers with the transaction as their inbox client (where there is one). */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Throws when the transaction cannot commit what it did (aborted, or closed by a handler). */
  check(): Promise<void>;
}

/**
 * One batch transaction: every key claimed in one statement (sorted, so transactions sharing ids
 * lock them in one order), `body` on the transaction, the claims of keys it did not reach
 * withdrawn, `COMMIT`. `body`'s own error rolls back and passes through; a driver failure (BEGIN,
 * the claim, an aborted transaction, COMMIT) rolls back and becomes a {@link DedupStoreError}.
 * @internal
 */
export async function runBatchTransaction(
  steps: BatchTransactionSteps,
  table: InboxTable,
  keys: readonly DedupKey[],
  ttl: number,
  body: BatchTransactionBody,
  store: string,
): Promise<void> {
  const hexes = keys.map((key) => hexOf(key.id));
  const first = keys[0]?.scope;
  const oneScope = keys.every((key) => key.scope === first);
  // One scope (a topic's chunk): the hex ids alone order the keys and name the claimed rows.
  const texts = oneScope ? hexes : keys.map((key, i) => `${key.scope}\u0000${hexes[i]}`);
  const order = keys.map((_, i) => i).sort((a, b) => compare(texts[a], texts[b]));
  const sorted = order.map((i) => keys[i]);
  // Read after the transaction's callback: declared wide so TS does not narrow it.
  let stage = 'claim' as 'claim' | 'handler' | 'commit';
  try {
    const claim = claimManySql(
      table,
      sorted,
      ttl,
      order.map((i) => hexes[i]),
    );
    await steps.transaction(claim, async (rows) => {
      // The keys are distinct: as many rows as keys means every key is new (the usual chunk).
      let claimed: boolean[];
      if (rows.length === keys.length) claimed = keys.map(() => true);
      else {
        // The new keys; with one scope in the chunk the claim answers only their ids (claimManySql).
        const byScope = rows.length > 0 && rows[0].scope !== undefined;
        const fresh = new Set<string>();
        for (const row of rows)
          fresh.add(byScope ? `${row.scope as string}\u0000${row.h as string}` : (row.h as string));
        const named =
          byScope && oneScope ? keys.map((key, i) => `${key.scope}\u0000${hexes[i]}`) : texts;
        claimed = keys.map((_, i) => fresh.has(byScope ? named[i] : hexes[i]));
      }
      stage = 'handler';
      const reached = await steps.run(() => body(claimed));
      stage = 'commit';
      const unreached = keys.filter((_, i) => i >= reached && claimed[i]);
      if (unreached.length > 0) await steps.query(unclaimManySql(table, unreached));
      await steps.check();
    });
  } catch (error) {
    if (stage === 'handler' || error instanceof DedupStoreError) throw error;
    throw new DedupStoreError(stage, store, { cause: error });
  }
}

/** The batch transaction on a pooled node-postgres client the store checks out. @internal */
export function poolBatchSteps(pool: PgPoolLike): BatchTransactionSteps {
  let client!: PgPoolClientLike;
  return {
    transaction: (first, body) =>
      pooledTransaction(pool, async (checkedOut) => {
        client = checkedOut;
        // One round trip: BEGIN and the claim of every key go together.
        const results = (await client.query(`BEGIN; ${first}`)) as PgResultLike[];
        return { value: await body(results[results.length - 1].rows), commit: true };
      }),
    query: async (sql) => rowsOf(await client.query(sql)),
    run: (fn) => inboxContext.run(client, fn),
    // An aborted transaction shows at COMMIT (it answers ROLLBACK).
    check: async () => undefined,
  };
}

/** The rows of a driver's answer: node-postgres / PGlite `{ rows }`, postgres.js an array. @internal */
export function rowsOf(result: unknown): InboxRow[] {
  if (Array.isArray(result)) {
    const last = result[result.length - 1] as { rows?: InboxRow[] } | InboxRow | undefined;
    return last !== undefined && Array.isArray((last as { rows?: unknown }).rows)
      ? (last as { rows: InboxRow[] }).rows
      : (result as InboxRow[]);
  }
  return (result as { rows?: InboxRow[] } | undefined)?.rows ?? [];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function hexOf(id: string | Buffer): string {
  return (typeof id === 'string' ? Buffer.from(id, 'utf8') : id).toString('hex');
}
