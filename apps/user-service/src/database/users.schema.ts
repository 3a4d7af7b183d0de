import {
  bigint,
  bigserial,
  char,
  index,
  jsonb,
  pgTable,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

/** Read model: one row per live user, written from the CDC stream (upsert on c/u/r, delete on d). */
export const users = pgTable('users', {
  id: text('id').primaryKey(),
  email: text('email'),
  name: text('name'),
  /** Position of the change that wrote the row: an older change never overwrites a newer one. */
  sourceLsn: bigint('source_lsn', { mode: 'bigint' }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Append-only analytics sink: one row per change applied. No unique constraint on purpose: a
 * duplicate that gets past deduplication shows up as an extra row, which is what the tests and the
 * demo count.
 */
export const userEvents = pgTable(
  'user_events',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    userId: text('user_id').notNull(),
    op: char('op', { length: 1 }).notNull(),
    sourceLsn: bigint('source_lsn', { mode: 'bigint' }).notNull(),
    txId: bigint('tx_id', { mode: 'bigint' }),
    tsMs: bigint('ts_ms', { mode: 'number' }),
    topic: text('topic').notNull(),
    partition: bigint('partition', { mode: 'number' }).notNull(),
    offset: bigint('offset', { mode: 'bigint' }).notNull(),
    payload: jsonb('payload'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('user_events_user_id_idx').on(t.userId)],
);

/** The schema drizzle is given (relations-free). */
export const userServiceSchema = { users, userEvents };
