import { Injectable } from '@nestjs/common';
import { and, eq, lte, sql } from 'drizzle-orm';
import { InboxTransaction } from '@nest-resilience/kafka-dedup';
import { UserServiceDatabase, type UserServiceDb } from '../database/user-service.database';
import { userEvents, users } from '../database/users.schema';
import type { ParsedUserChange } from './cdc-event';

/** Where a change came from (bounded fields of the Kafka message). */
export interface ChangeOrigin {
  topic: string;
  partition: number;
  offset: string;
}

/**
 * Applies one change in one transaction (its own, or the dedup inbox's with the postgres store):
 * the `users` read model (upsert on c/u/r, delete on d, an older change never overwriting a newer
 * one) and one appended `user_events` row.
 */
@Injectable()
export class UserChangesWriter {
  /** The dedup inbox's transaction, when the postgres store runs this handler. */
  private readonly inbox = new InboxTransaction();

  constructor(private readonly database: UserServiceDatabase) {}

  async apply(change: ParsedUserChange, origin: ChangeOrigin): Promise<void> {
    try {
      if (this.inbox.active) {
        // KAFKA_DEDUP_STORE=postgres: the store opened a transaction and recorded the id in it;
        // writing through it (a pooled connection, or PGlite's Transaction) makes the change and
        // the id commit (or roll back) together.
        await this.write(this.database.onInboxClient(this.inbox.client()), change, origin);
      } else {
        await this.database.db.transaction((tx) => this.write(tx, change, origin));
      }
    } catch (error) {
      // A plain message: the driver's error carries the bigint parameters, which the Kafka
      // consumer's error logging cannot serialise (it would crash the consumer instead of retrying).
      throw new UserChangeWriteError(
        origin,
        (error as { cause?: Error }).cause ?? (error as Error),
      );
    }
  }

  private async write(
    tx: Pick<UserServiceDb, 'insert' | 'delete'>,
    change: ParsedUserChange,
    origin: ChangeOrigin,
  ): Promise<void> {
    if (change.op === 'd') {
      await tx
        .delete(users)
        .where(and(eq(users.id, change.userId), lte(users.sourceLsn, change.sourceLsn)));
    } else {
      const row = {
        id: change.userId,
        email: text(change.row?.email),
        name: text(change.row?.name),
        sourceLsn: change.sourceLsn,
        updatedAt: new Date(),
      };
      await tx
        .insert(users)
        .values(row)
        .onConflictDoUpdate({
          target: users.id,
          set: {
            email: row.email,
            name: row.name,
            sourceLsn: row.sourceLsn,
            updatedAt: row.updatedAt,
          },
          setWhere: sql`${users.sourceLsn} <= excluded.source_lsn`,
        });
    }
    await tx.insert(userEvents).values({
      userId: change.userId,
      op: change.op,
      sourceLsn: change.sourceLsn,
      txId: change.txId,
      tsMs: change.tsMs,
      topic: origin.topic,
      partition: origin.partition,
      offset: BigInt(origin.offset),
      payload: change.envelope,
    });
  }
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : value == null ? null : String(value);
}

/** A change could not be written; thrown so Kafka redelivers it. */
export class UserChangeWriteError extends Error {
  constructor(origin: ChangeOrigin, cause: Error) {
    super(`writing ${origin.topic}[${origin.partition}]@${origin.offset} failed: ${cause.message}`);
    this.name = 'UserChangeWriteError';
  }
}
