import { PGlite } from '@electric-sql/pglite';

/** What the demo counts in user-service's database once the service has stopped. */
export interface DemoRowCounts {
  userEventRows: number;
  distinctRows: number;
  /** Inbox rows of this run left after the TTL and the sweeps (the inbox store only, else 0). */
  inboxRows: number;
}

const INBOX_ROWS = `SELECT count(*)::int AS n FROM kafka_dedup_inbox WHERE scope LIKE '%/' || $1`;

/**
 * Counts `user_events` rows (all, and distinct source positions) of `topic` and, with the inbox
 * store, its inbox rows: in PostgreSQL at `databaseUrl` when set, else in the PGlite directory.
 */
export async function countDemoRows(
  topic: string,
  inbox: boolean,
  pgliteDir: string,
  databaseUrl?: string,
): Promise<DemoRowCounts> {
  if (databaseUrl) {
    const { Client } = await import('pg');
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ rows: string; distinct: string }>(
        `SELECT count(*) AS rows, count(DISTINCT (source_lsn, tx_id)) AS distinct FROM user_events WHERE topic = $1`,
        [topic],
      );
      const inboxRows = inbox
        ? (await client.query<{ n: number }>(INBOX_ROWS, [topic])).rows[0].n
        : 0;
      return {
        userEventRows: Number(rows[0].rows),
        distinctRows: Number(rows[0].distinct),
        inboxRows,
      };
    } finally {
      await client.end();
    }
  }
  const db = new PGlite(pgliteDir);
  try {
    const { rows } = await db.query<{ rows: number; distinct: number }>(
      'SELECT count(*)::int AS rows, count(DISTINCT (source_lsn, tx_id))::int AS distinct FROM user_events',
    );
    const inboxRows = inbox ? (await db.query<{ n: number }>(INBOX_ROWS, [topic])).rows[0].n : 0;
    return { userEventRows: rows[0].rows, distinctRows: rows[0].distinct, inboxRows };
  } finally {
    await db.close();
  }
}
