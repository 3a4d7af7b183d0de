import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import type { PGliteTransactionLike, PgQueryable } from './inbox.drivers';

/**
 * What a handler of the inbox store writes through: a node-postgres client (`PoolClient`), or the
 * PGlite `Transaction` when the store runs on PGlite (`postgres.pglite`).
 */
export type InboxClient = PgQueryable | PGliteTransactionLike;

/** The connection of the inbox transaction the current handler runs in. @internal */
export const inboxContext = new AsyncLocalStorage<InboxClient>();

/**
 * The client of the inbox transaction the current handler runs in (its node-postgres `PoolClient`
 * when the store owns the transaction; the transaction's client when it runs through a pg-based
 * `TransactionHost`; PGlite's `Transaction` with `postgres.pglite`). Writes through it commit or
 * roll back with the event's inbox record. Pass the client type you use:
 * `getInboxClient<PoolClient>()`, `getInboxClient<Transaction>()` (PGlite).
 *
 * @throws Error outside an inbox transaction (a handler of the `postgres` store, or `DedupService.execute()`).
 * @example
 * await getInboxClient<PoolClient>().query('INSERT INTO users_view (id, name) VALUES ($1, $2)', [u.id, u.name]);
 */
export function getInboxClient<C extends InboxClient = PgQueryable>(): C {
  const client = inboxContext.getStore();
  if (client === undefined) {
    throw new Error(
      'KafkaDedup: no inbox transaction here: getInboxClient() works inside a handler deduplicated ' +
        'by the postgres store (with transactionHost and a non-pg adapter, use txHost.tx instead)',
    );
  }
  return client as C;
}

/**
 * Injectable access to the inbox transaction, for services without an ORM.
 *
 * @example
 * constructor(private readonly inbox: InboxTransaction) {}
 * async apply(change: UserChange) {
 *   await this.inbox.client<PoolClient>().query('UPDATE users_view SET name = $2 WHERE id = $1', [change.id, change.name]);
 * }
 */
@Injectable()
export class InboxTransaction {
  /** True inside an inbox transaction. */
  get active(): boolean {
    return inboxContext.getStore() !== undefined;
  }

  /** The client of the current inbox transaction; see {@link getInboxClient}. */
  client<C extends InboxClient = PgQueryable>(): C {
    return getInboxClient<C>();
  }
}
