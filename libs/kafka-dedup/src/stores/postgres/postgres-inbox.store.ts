import { randomUUID } from 'node:crypto';
import { Logger, type OnModuleInit } from '@nestjs/common';
import { DedupOptionsError, DedupStoreError } from '../../errors/dedup.errors';
import type {
  ClaimResult,
  DedupKey,
  TransactionOutcome,
} from '../../interfaces/dedup-key.interface';
import { RateLimitedLogger } from '../../logging/rate-limited-logger';
import { requireOptionalPeer } from '../../dedup.peers';
import {
  CleanupResult,
  DedupStore,
  type BatchTransactionBody,
  type BatchTransactionLimits,
} from '../dedup.store';
import { poolBatchSteps, runBatchTransaction } from './inbox.batch';
import { InboxClaim } from './inbox.claim';
import { pooledTransaction } from './inbox.pooled-transaction';
import { inboxContext } from './inbox.context';
import { migratePostgresInbox, verifyInboxTable } from './inbox.migration';
import { runClaimedTransaction } from './inbox.transaction';
import { PgliteInboxAdapter } from './pglite.adapter';
import { claimInTransactionSql, leaseSql, sizeSql, sweepSql, type InboxTable } from './inbox.sql';
import type { PgPoolClientLike, PgPoolLike, PgQueryable, PgResultLike } from './inbox.drivers';
import {
  resolvePostgresOptions,
  type DedupPostgresOptions,
  type ResolvedPostgresOptions,
} from './postgres-inbox.options';
import {
  hostBatchSteps,
  hostClaimSteps,
  resolveTransactionHost,
  type TransactionHostLike,
} from './transaction-host.bridge';

const DUPLICATE = { duplicate: true } as const;
/** Longest one TTL sweep keeps deleting batches; the next run goes on from there. */
const SWEEP_BUDGET_MS = 5_000;

/**
 * Transactional inbox on PostgreSQL (node-postgres, or an embedded PGlite instance): the event id
 * is recorded in the SAME transaction as the handler's writes, so both commit or neither does.
 *
 * `runInTransaction` (what `DedupService.execute()` and `@Deduplicate()` use): `BEGIN` and
 * `INSERT … ON CONFLICT (scope, id) DO NOTHING` in one round trip (a statement prepared once per
 * connection, see {@link InboxClaim}); no row inserted → duplicate
 * (rolled back, handler skipped); else the handler runs in the transaction (`getInboxClient()`,
 * `InboxTransaction`, or — with `transactionHost` — `@Transactional()` code and `txHost.tx`), then
 * `COMMIT`. A throw rolls both back, so the redelivery is processed; a crash rolls back on the
 * server; a concurrent copy blocks on the primary key until the first commits, then is a duplicate.
 * A store failure (unreachable, an aborted transaction, a failed commit) throws
 * {@link DedupStoreError} — a `KafkaRetriableException` — so Kafka redelivers the message.
 *
 * On PGlite (`pglite`), each inbox transaction is a `pglite.transaction()` holding PGlite's
 * transaction mutex (one session: transactions run one after another), with a literal claim; the
 * handler gets PGlite's `Transaction` from `getInboxClient()` / `InboxTransaction`.
 *
 * @example
 * DedupModule.forRoot({ store: 'postgres', postgres: { connectionString: 'postgres://app@db/app' } })
 * // or, as an instance:
 * DedupModule.forRoot({ store: new PostgresInboxStore({ pool }) })
 * // or, embedded:
 * DedupModule.forRoot({ store: 'postgres', postgres: { pglite: new PGlite('./data') } })
 */
export class PostgresInboxStore extends DedupStore implements OnModuleInit {
  readonly name = 'postgres';
  private readonly logger = new Logger('KafkaDedup');
  private readonly warnings = new RateLimitedLogger(this.logger);
  private readonly options: ResolvedPostgresOptions;
  private readonly table: InboxTable;
  private readonly owned: boolean;
  private readonly lease: ReturnType<typeof leaseSql>;
  private readonly claimer: InboxClaim;
  private readonly sweep: string;
  private host?: TransactionHostLike;
  private initialised?: Promise<void>;
  /** The PGlite instance's adapter (`pglite`). */
  private readonly pglite?: PgliteInboxAdapter;
  /** Where auto-committed statements go: the pool, or PGlite. */
  private readonly db: PgQueryable;
  /**
   * The node-postgres pool: the store's own (`connectionString`) or the app's (`pool`);
   * `undefined` on PGlite.
   */
  readonly pool?: PgPoolLike;
  /** `postgres.batchTransactions`: the caps of a batch transaction; `undefined` when off. */
  override readonly batchTransactions?: BatchTransactionLimits;

  constructor(options: DedupPostgresOptions | ResolvedPostgresOptions) {
    super();
    this.options = isResolved(options) ? options : resolvePostgresOptions(options);
    this.table = this.options.table;
    this.lease = leaseSql(this.table);
    this.claimer = new InboxClaim(this.table);
    this.sweep = sweepSql(this.table);
    this.owned = this.options.connectionString !== undefined;
    this.batchTransactions = this.options.batch;
    if (this.options.pglite !== undefined) {
      this.pglite = new PgliteInboxAdapter(this.options.pglite);
      this.db = this.pglite;
      return;
    }
    this.pool = this.options.pool ?? this.createPool();
    this.db = this.pool;
    // A pooled client checked out for a transaction has no 'error' listener (the pool removes its
    // own): PostgreSQL going away between two statements would be an uncaught 'error' event and
    // kill the process. The statement in flight, or the next one, rejects anyway — that is what
    // makes Kafka redeliver. Covers clients that an ORM adapter checks out, too.
    this.pool.on?.('connect', (client: PgPoolClientLike) =>
      client.on?.('error', ignoreClientError),
    );
  }

  /**
   * Bootstrap: connects (failing the start naming the option when it cannot), runs the migration
   * (`migrate`), checks the table's schema, and finds the `TransactionHost` (`transactionHost`).
   */
  onModuleInit(): Promise<void> {
    this.initialised ??= this.init();
    return this.initialised;
  }

  /** Answers when PostgreSQL runs a query (health checks). */
  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  override async runInTransaction<T>(
    key: DedupKey,
    ttl: number,
    fn: () => Promise<T>,
  ): Promise<TransactionOutcome<T>> {
    if (this.options.transactionHost !== undefined) return this.runInHostTransaction(key, ttl, fn);
    if (this.pglite !== undefined) {
      return this.pglite.runInTransaction(
        claimInTransactionSql(this.table, key, ttl),
        fn,
        this.name,
      );
    }
    return pooledTransaction<TransactionOutcome<T>>(
      this.pool!,
      async (client) => {
        let claimed: boolean;
        try {
          // One round trip: BEGIN and the (prepared) claim go together.
          claimed = await this.claimer.begin(client, key, ttl);
        } catch (error) {
          throw this.failure('claim', error);
        }
        if (!claimed) return { value: DUPLICATE, commit: false };
        const result = await inboxContext.run(client, fn);
        return { value: { duplicate: false, result }, commit: true };
      },
      (stage, error) => this.failure(stage, error),
    );
  }

  /**
   * A chunk of a batch in one transaction (`postgres.batchTransactions`, see
   * {@link DedupStore.runBatchInTransaction}), on the pool, PGlite or the `TransactionHost`.
   */
  override runBatchInTransaction(
    keys: readonly DedupKey[],
    ttl: number,
    body: BatchTransactionBody,
  ): Promise<void> {
    let steps;
    if (this.options.transactionHost !== undefined) {
      this.host ??= resolveTransactionHost(this.options.transactionHost);
      steps = hostBatchSteps(this.host);
    } else {
      steps = this.pglite?.batchSteps() ?? poolBatchSteps(this.pool!);
    }
    return runBatchTransaction(steps, this.table, keys, ttl, body, this.name);
  }

  /** Lease claim for `DedupService.acquire()` outside a transaction (side effects elsewhere). */
  async claim(key: DedupKey, leaseTtl: number): Promise<ClaimResult> {
    const token = randomUUID();
    const { rows } = (await this.db.query(this.lease.claim, [
      key.scope,
      idBytes(key.id),
      leaseTtl,
      token,
    ])) as PgResultLike;
    if (rows[0].claimed === 1) return { status: 'claimed', token };
    return rows[0].done === true ? { status: 'duplicate' } : { status: 'in-flight' };
  }

  async commit(key: DedupKey, token: string, ttl: number): Promise<void> {
    await this.db.query(this.lease.commit, [key.scope, idBytes(key.id), ttl, token]);
  }

  async release(key: DedupKey, token: string): Promise<void> {
    await this.db.query(this.lease.release, [key.scope, idBytes(key.id), token]);
  }

  async renew(
    claims: ReadonlyArray<{ key: DedupKey; token: string }>,
    leaseTtl: number,
  ): Promise<void> {
    for (const { key, token } of claims) {
      await this.db.query(this.lease.renew, [key.scope, idBytes(key.id), leaseTtl, token]);
    }
  }

  async markIfAbsent(key: DedupKey, ttl: number): Promise<boolean> {
    const result = (await this.db.query(this.lease.mark, [
      key.scope,
      idBytes(key.id),
      ttl,
    ])) as PgResultLike;
    return result.rowCount === 1;
  }

  async size(): Promise<number> {
    const { rows } = (await this.db.query(sizeSql(this.table))) as PgResultLike;
    return Number(rows[0].n);
  }

  /**
   * TTL sweep in batches of `sweepBatchSize` rows, each its own short statement (no long locks;
   * rows a replica's sweep holds are skipped), for at most 5 s per run.
   */
  override async cleanup(): Promise<CleanupResult> {
    const started = Date.now();
    let removed = 0;
    for (;;) {
      const { rowCount } = (await this.db.query(this.sweep, [
        this.options.sweepBatchSize,
      ])) as PgResultLike;
      removed += rowCount ?? 0;
      if ((rowCount ?? 0) < this.options.sweepBatchSize) break;
      if (Date.now() - started >= SWEEP_BUDGET_MS) break;
    }
    return { removed, durationMs: Date.now() - started, maxPauseMs: 0 };
  }

  override async close(): Promise<void> {
    if (this.owned) await this.pool?.end();
  }

  private async init(): Promise<void> {
    try {
      await this.db.query('SELECT 1');
    } catch (error) {
      const option = this.pglite
        ? 'postgres.pglite'
        : this.owned
          ? 'postgres.connectionString'
          : 'postgres.pool';
      throw new DedupOptionsError(
        option,
        this.owned ? redact(this.options.connectionString) : '{…}',
        `${this.pglite ? 'PGlite' : 'PostgreSQL'} does not answer: ${(error as Error).message}`,
      );
    }
    // An existing table is checked before the migration touches it (a foreign table named by
    // mistake fails naming postgres.table, not with an index error).
    const existed = await verifyInboxTable(this.db, this.table, this.options.migrate);
    if (this.options.migrate) {
      await migratePostgresInbox(this.pglite?.pglite ?? this.pool!, this.table);
      if (!existed) await verifyInboxTable(this.db, this.table);
    }
    if (this.options.transactionHost !== undefined) {
      this.host = resolveTransactionHost(this.options.transactionHost);
    }
  }

  /** The inbox transaction opened by the app's `TransactionHost` (Drizzle, pg, … adapters). */
  private runInHostTransaction<T>(
    key: DedupKey,
    ttl: number,
    fn: () => Promise<T>,
  ): Promise<TransactionOutcome<T>> {
    this.host ??= resolveTransactionHost(this.options.transactionHost!);
    const claim = claimInTransactionSql(this.table, key, ttl);
    return runClaimedTransaction(hostClaimSteps(this.host, claim), fn, this.name);
  }

  private failure(operation: string, cause: unknown): DedupStoreError {
    return new DedupStoreError(operation, this.name, { cause });
  }

  private createPool(): PgPoolLike {
    const pg = requireOptionalPeer<typeof import('pg')>('pg', 'the postgres store');
    const pool = new pg.Pool({
      connectionTimeoutMillis: 5_000,
      ...this.options.config,
      connectionString: this.options.connectionString,
    }) as unknown as PgPoolLike;
    // Without a listener, an idle client's error (PostgreSQL restarting) would crash the process.
    pool.on?.('error', (error) =>
      this.warnings.warn('pool', `postgres store: idle connection failed: ${error.message}`),
    );
    return pool;
  }
}

function isResolved(
  options: DedupPostgresOptions | ResolvedPostgresOptions,
): options is ResolvedPostgresOptions {
  return typeof (options as ResolvedPostgresOptions).poolMax === 'number';
}

function ignoreClientError(): void {
  // The query in flight rejects with the same error; see runInTransaction.
}

function idBytes(id: string | Buffer): Buffer {
  return typeof id === 'string' ? Buffer.from(id, 'utf8') : id;
}

function redact(url: string | undefined): string | undefined {
  return url?.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
