import { Client } from 'pg';

/** The PostgreSQL server the suites use (scripts/with-services.sh makes sure it answers). */
export const POSTGRES_URL =
  process.env.POSTGRES_URL ??
  `postgresql://postgres@127.0.0.1:${process.env.PG_PORT ?? 5432}/postgres`;

/**
 * A database of its own on the shared server (`user_service_e2e_<random>`), dropped by `drop()`:
 * suites never touch another suite's (or another helper's) tables.
 */
export class PrivateDatabase {
  readonly name = `user_service_e2e_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;

  get url(): string {
    const url = new URL(POSTGRES_URL);
    url.pathname = `/${this.name}`;
    return url.toString();
  }

  async create(): Promise<void> {
    await this.admin(`CREATE DATABASE ${this.name}`);
  }

  async drop(): Promise<void> {
    await this.admin(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`);
  }

  /** Runs one query on this database and returns its rows. */
  async query<T extends Record<string, unknown>>(
    text: string,
    values: unknown[] = [],
  ): Promise<T[]> {
    const client = new Client({ connectionString: this.url });
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  /** `user_events` rows (total) and distinct source positions in them. */
  async eventCounts(): Promise<{ rows: number; distinct: number }> {
    const [row] = await this.query<{ rows: string; distinct: string }>(
      'SELECT count(*) AS rows, count(DISTINCT (source_lsn, tx_id)) AS distinct FROM user_events',
    );
    return { rows: Number(row.rows), distinct: Number(row.distinct) };
  }

  private async admin(sql: string): Promise<void> {
    const client = new Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }
}
