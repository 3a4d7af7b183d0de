import type { TransactionHost } from '@nestjs-cls/transactional';
import { DedupOptionsError } from '../../errors/dedup.errors';
import { requireOptionalPeer } from '../../dedup.peers';
import { inboxContext } from './inbox.context';
import { rowsOf, type BatchTransactionSteps, type InboxRow } from './inbox.batch';
import type { PgQueryable, PgResultLike } from './inbox.drivers';
import type { ClaimedTransactionSteps } from './inbox.transaction';

/** The part of `TransactionHost` the store uses. @internal */
export type TransactionHostLike = Pick<TransactionHost<never>, 'withTransaction'> & {
  readonly tx: unknown;
};

/** Runs one raw SQL statement in a transaction object; answers the affected row count. @internal */
export type RawExecutor = (text: string) => Promise<number>;

/**
 * The `TransactionHost` of `@nestjs-cls/transactional` (loaded only with `postgres.transactionHost`)
 * for `connectionName` (`''`: the default one). Fails the bootstrap when the plugin is not
 * registered, or its adapter's client runs no raw SQL.
 * @internal
 */
export function resolveTransactionHost(connectionName: string): TransactionHostLike {
  const transactional = requireOptionalPeer<typeof import('@nestjs-cls/transactional')>(
    '@nestjs-cls/transactional',
    'postgres.transactionHost',
  );
  let host: TransactionHostLike;
  try {
    host = transactional.TransactionHost.getInstance(connectionName || undefined);
  } catch (error) {
    throw new DedupOptionsError(
      'postgres.transactionHost',
      connectionName === '' ? true : connectionName,
      `no TransactionHost: register ClsModule.forRoot({ plugins: [new ClsPluginTransactional({ adapter, ${
        connectionName ? `connectionName: '${connectionName}'` : '…'
      } })] }) in the app (${(error as Error).message})`,
    );
  }
  if (executorFor(host.tx) === undefined) {
    throw new DedupOptionsError(
      'postgres.transactionHost',
      connectionName === '' ? true : connectionName,
      "the adapter's client has neither query(sql) (node-postgres) nor execute(sql) (Drizzle): the inbox claim cannot join its transactions",
    );
  }
  return host;
}

/**
 * How to run raw SQL in an adapter's transaction object: node-postgres clients (`query`) and
 * Drizzle databases/transactions (`execute` accepts a raw string). @internal
 */
export function executorFor(tx: unknown): RawExecutor | undefined {
  const candidate = tx as {
    query?: (text: string) => Promise<unknown>;
    execute?: (text: string) => Promise<unknown>;
  };
  if (typeof candidate?.query === 'function')
    return async (text) => rowCountOf(await candidate.query!(text));
  if (typeof candidate?.execute === 'function')
    return async (text) => rowCountOf(await candidate.execute!(text));
  return undefined;
}

/** True when `tx` is a node-postgres client (so `getInboxClient()` can hand it out). @internal */
export function isPgQueryable(tx: unknown): tx is PgQueryable {
  return typeof (tx as PgQueryable | undefined)?.query === 'function';
}

function rowCountOf(result: unknown): number {
  // node-postgres (and Drizzle over it): rowCount; postgres.js (and Drizzle over it): count;
  // PGlite (and Drizzle over it): affectedRows.
  const r = result as Partial<PgResultLike> & { count?: number; affectedRows?: number };
  return r?.rowCount ?? r?.count ?? r?.affectedRows ?? 0;
}

/**
 * A batch transaction opened by the app's `TransactionHost`: the handlers run inside its
 * `withTransaction()`, so `@Transactional()` code and `txHost.tx` join it. @internal
 */
export function hostBatchSteps(host: TransactionHostLike): BatchTransactionSteps {
  let execute!: (sql: string) => Promise<InboxRow[]>;
  return {
    transaction: (first, body) =>
      host.withTransaction(async () => {
        const tx = host.tx as {
          query?: (text: string) => Promise<unknown>;
          execute?: (text: string) => Promise<unknown>;
        };
        execute = async (sql) =>
          rowsOf(await (typeof tx.query === 'function' ? tx.query(sql) : tx.execute!(sql)));
        return body(await execute(first));
      }),
    query: (sql) => execute(sql),
    run: (fn) => {
      const tx = host.tx;
      return isPgQueryable(tx) ? inboxContext.run(tx, fn) : fn();
    },
    // The adapter commits without looking at the answer: an aborted transaction must fail here.
    check: async () => {
      await execute('SELECT 1');
    },
  };
}

/** One message's inbox transaction opened by the app's `TransactionHost`. @internal */
export function hostClaimSteps(host: TransactionHostLike, claim: string): ClaimedTransactionSteps {
  let execute!: RawExecutor;
  return {
    transaction: (body) =>
      host.withTransaction(() => {
        execute = executorFor(host.tx)!;
        return body();
      }),
    // Literal, not the prepared claim: the adapter's transaction object tells nothing about its
    // connection, and a missing statement would abort a transaction this store cannot retry.
    claim: () => execute(claim),
    run: (handler) => {
      const tx = host.tx;
      return isPgQueryable(tx) ? inboxContext.run(tx, handler) : handler();
    },
    // The adapter commits without looking at the answer: make an aborted transaction (a statement
    // error the handler caught) fail here, so it rolls back and is redelivered.
    check: async () => {
      await execute('SELECT 1');
    },
  };
}
