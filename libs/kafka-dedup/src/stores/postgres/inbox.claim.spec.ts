import { DedupStoreError } from '../../errors/dedup.errors';
import { InboxClaim } from './inbox.claim';
import { getInboxClient } from './inbox.context';
import { parseInboxTable } from './inbox.sql';
import type { PgPoolLike, PgQueryable, PgResultLike } from './inbox.drivers';
import { PostgresInboxStore } from './postgres-inbox.store';

const table = parseInboxTable('kafka_dedup_inbox')!;
const key = { scope: 'g/orders', id: 'e1' };

function sqlError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * A connection that answers like PostgreSQL for what the claim sends: it keeps its own prepared
 * statements (`DEALLOCATE ALL` / `DISCARD ALL` drop them), fails `EXECUTE` of a missing one with
 * 26000 and `PREPARE` of an existing one with 42P05, and records every query.
 */
class FakeConnection implements PgQueryable {
  readonly sent: string[] = [];
  released = 0;
  readonly statements = new Set<string>();
  /** rowCount of the next claims (1: inserted, 0: duplicate). */
  inserted = 1;
  /** Errors thrown by the next queries, in order (undefined: that query is answered). */
  readonly failures: Array<Error | undefined> = [];

  async query(text: string): Promise<PgResultLike | PgResultLike[]> {
    this.sent.push(text);
    const failure = this.failures.shift();
    if (failure) throw failure;
    if (text === 'DEALLOCATE ALL' || text === 'DISCARD ALL') this.statements.clear();
    if (text === 'COMMIT') return { rows: [], rowCount: null, command: 'COMMIT' };
    const results: PgResultLike[] = [];
    for (const statement of text.split('; ')) {
      const prepare = /^PREPARE (\w+)\(/.exec(statement);
      const execute = /^EXECUTE (\w+)\(/.exec(statement);
      if (prepare) {
        if (this.statements.has(prepare[1]))
          throw sqlError('42P05', `prepared statement "${prepare[1]}" already exists`);
        this.statements.add(prepare[1]);
        results.push({ rows: [], rowCount: null, command: 'PREPARE' });
      } else if (execute) {
        if (!this.statements.has(execute[1]))
          throw sqlError('26000', `prepared statement "${execute[1]}" does not exist`);
        results.push({ rows: [], rowCount: this.inserted, command: 'INSERT' });
      } else {
        results.push({ rows: [], rowCount: null, command: statement });
      }
    }
    return results.length === 1 ? results[0] : results;
  }

  release(): void {
    this.released++;
  }

  /** What each query was, by its first statement (`PREPARE …; BEGIN; EXECUTE …` → `PREPARE+BEGIN+EXECUTE`). */
  kinds(): string[] {
    return this.sent.map((q) =>
      q
        .split('; ')
        .map((s) => s.split(/[ (]/)[0])
        .join('+'),
    );
  }
}

describe('InboxClaim (the claim prepared once per connection)', () => {
  it("prepares on a connection's first claim in the same round trip, then only runs BEGIN; EXECUTE", async () => {
    const claim = new InboxClaim(table);
    const connection = new FakeConnection();
    expect(await claim.begin(connection, key, 60_000)).toBe(true);
    connection.inserted = 0;
    expect(await claim.begin(connection, key, 60_000)).toBe(false);
    expect(connection.kinds()).toEqual(['PREPARE+BEGIN+EXECUTE', 'BEGIN+EXECUTE']);
    expect(connection.sent[1]).toBe(
      `BEGIN; EXECUTE ${claim.name}('g/orders', decode('6531', 'hex'), 60000)`,
    );
  });

  it('prepares again on a new connection; stores of one table share the statement, another table has its own', async () => {
    const first = new InboxClaim(table);
    const second = new InboxClaim(table);
    const other = new InboxClaim(parseInboxTable('app.other_inbox')!);
    expect(second.name).toBe(first.name);
    expect(other.name).not.toBe(first.name);
    const a = new FakeConnection();
    const b = new FakeConnection();
    await first.begin(a, key, 1_000);
    await second.begin(a, key, 1_000);
    await other.begin(a, key, 1_000);
    await second.begin(b, key, 1_000);
    expect(a.kinds()).toEqual(['PREPARE+BEGIN+EXECUTE', 'BEGIN+EXECUTE', 'PREPARE+BEGIN+EXECUTE']);
    expect(b.kinds()).toEqual(['PREPARE+BEGIN+EXECUTE']);
    expect([...a.statements].sort()).toEqual([first.name, other.name].sort());
  });

  it('a connection that lost the statement (26000) is rolled back, re-prepared and claimed once more', async () => {
    const claim = new InboxClaim(table);
    const connection = new FakeConnection();
    await claim.begin(connection, key, 1_000);
    await connection.query('DISCARD ALL');
    expect(await claim.begin(connection, key, 1_000)).toBe(true);
    expect(connection.kinds()).toEqual([
      'PREPARE+BEGIN+EXECUTE',
      'DISCARD',
      'BEGIN+EXECUTE', // 26000
      'ROLLBACK',
      'PREPARE+BEGIN+EXECUTE',
    ]);
    expect(await claim.begin(connection, key, 1_000)).toBe(true);
    expect(connection.kinds().at(-1)).toBe('BEGIN+EXECUTE');
  });

  it('a statement the connection already had (42P05) is recorded and the claim runs without PREPARE', async () => {
    const claim = new InboxClaim(table);
    const connection = new FakeConnection();
    connection.statements.add(claim.name); // prepared by something this process does not track
    expect(await claim.begin(connection, key, 1_000)).toBe(true);
    expect(connection.kinds()).toEqual(['PREPARE+BEGIN+EXECUTE', 'ROLLBACK', 'BEGIN+EXECUTE']);
  });

  it('retries once only: a second 26000 is thrown', async () => {
    const claim = new InboxClaim(table);
    const connection = new FakeConnection();
    await claim.begin(connection, key, 1_000);
    // The claim fails with 26000, the ROLLBACK answers, the retry fails with 26000 again.
    connection.failures.push(sqlError('26000', 'gone'), undefined, sqlError('26000', 'gone again'));
    await expect(claim.begin(connection, key, 1_000)).rejects.toThrow('gone again');
    expect(connection.kinds().slice(1)).toEqual([
      'BEGIN+EXECUTE',
      'ROLLBACK',
      'PREPARE+BEGIN+EXECUTE',
    ]);
  });

  it('throws any other error at once, without retrying; a failed PREPARE attempt is not recorded', async () => {
    const claim = new InboxClaim(table);
    const connection = new FakeConnection();
    connection.failures.push(sqlError('55P03', 'lock timeout'));
    await expect(claim.begin(connection, key, 1_000)).rejects.toThrow('lock timeout');
    expect(connection.kinds()).toEqual(['PREPARE+BEGIN+EXECUTE']);
    await claim.begin(connection, key, 1_000);
    expect(connection.kinds()).toEqual(['PREPARE+BEGIN+EXECUTE', 'PREPARE+BEGIN+EXECUTE']);
  });

  it('throws the 26000 when the rollback before the retry fails (the connection is gone)', async () => {
    const claim = new InboxClaim(table);
    const connection = new FakeConnection();
    await claim.begin(connection, key, 1_000);
    connection.failures.push(sqlError('26000', 'gone'), new Error('Connection terminated'));
    await expect(claim.begin(connection, key, 1_000)).rejects.toThrow('gone');
    expect(connection.kinds().slice(1)).toEqual(['BEGIN+EXECUTE', 'ROLLBACK']);
  });

  it('escapes the scope once per scope and writes the id as hex bytes', async () => {
    const claim = new InboxClaim(table);
    const connection = new FakeConnection();
    await claim.begin(connection, { scope: "o'brien\\x", id: Buffer.from([0xff]) }, 5);
    await claim.begin(connection, { scope: 'plain', id: 'a' }, 5);
    expect(connection.sent[0]).toContain(
      `EXECUTE ${claim.name}(E'o''brien\\\\x', decode('ff', 'hex'), 5)`,
    );
    expect(connection.sent[1]).toBe(
      `BEGIN; EXECUTE ${claim.name}('plain', decode('61', 'hex'), 5)`,
    );
    await expect(claim.begin(connection, { scope: 'a\0b', id: 'a' }, 5)).rejects.toThrow('NUL');
  });
});

describe('PostgresInboxStore.runInTransaction with the prepared claim', () => {
  /** A pool of one connection, like `max: 1`. */
  function storeOn(connection: FakeConnection): PostgresInboxStore {
    const pool = { connect: async () => connection, query: connection.query.bind(connection) };
    return new PostgresInboxStore({ pool: pool as unknown as PgPoolLike });
  }
  const handler = async () => {
    await getInboxClient().query('INSERT INTO side_effects');
    return 'done';
  };

  it('a pooled connection reset in between (DISCARD ALL) runs the handler once, in one committed transaction', async () => {
    const connection = new FakeConnection();
    const store = storeOn(connection);
    expect(await store.runInTransaction(key, 1_000, handler)).toEqual({
      duplicate: false,
      result: 'done',
    });
    await connection.query('DISCARD ALL');
    connection.sent.length = 0;
    expect(await store.runInTransaction({ ...key, id: 'e2' }, 1_000, handler)).toEqual({
      duplicate: false,
      result: 'done',
    });
    expect(connection.kinds()).toEqual([
      'BEGIN+EXECUTE',
      'ROLLBACK',
      'PREPARE+BEGIN+EXECUTE',
      'INSERT',
      'COMMIT',
    ]);
    expect(connection.released).toBe(2);
  });

  it('a duplicate rolls back without running the handler; a claim that fails twice is a DedupStoreError after a rollback', async () => {
    const connection = new FakeConnection();
    const store = storeOn(connection);
    connection.inserted = 0;
    expect(await store.runInTransaction(key, 1_000, handler)).toEqual({ duplicate: true });
    expect(connection.kinds()).toEqual(['PREPARE+BEGIN+EXECUTE', 'ROLLBACK']);
    connection.sent.length = 0;
    connection.failures.push(sqlError('26000', 'gone'), undefined, sqlError('26000', 'gone again'));
    await expect(store.runInTransaction(key, 1_000, handler)).rejects.toBeInstanceOf(
      DedupStoreError,
    );
    expect(connection.kinds()).toEqual([
      'BEGIN+EXECUTE',
      'ROLLBACK',
      'PREPARE+BEGIN+EXECUTE',
      'ROLLBACK',
    ]);
  });
});
