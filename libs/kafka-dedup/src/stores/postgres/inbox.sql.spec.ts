import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  byteaLiteral,
  claimInTransactionSql,
  DEFAULT_INBOX_TABLE,
  executeClaimSql,
  expiresIn,
  inboxMigrationSql,
  parseInboxTable,
  preparedClaimSql,
  sweepSql,
  textLiteral,
} from './inbox.sql';

const table = parseInboxTable(DEFAULT_INBOX_TABLE)!;

describe('inbox SQL', () => {
  it('quotes a plain or schema-qualified table name and refuses anything else', () => {
    expect(parseInboxTable('inbox')?.sql).toBe('"inbox"');
    expect(parseInboxTable('app.inbox')?.sql).toBe('"app"."inbox"');
    for (const bad of ['', 'a.b.c', 'in box', 'x"y', '1abc', 'a;b', 'a'.repeat(64)]) {
      expect(parseInboxTable(bad)).toBeUndefined();
    }
  });

  it("escapes text literals (quotes doubled, backslashes with E'') and refuses NUL", () => {
    expect(textLiteral("orders/o'brien")).toBe("'orders/o''brien'");
    expect(textLiteral('a\\b')).toBe("E'a\\\\b'");
    expect(() => textLiteral('a\0b')).toThrow('NUL');
  });

  it('writes ids as hex bytea, so a binary id and an injection attempt are just bytes', () => {
    expect(byteaLiteral(Buffer.from([0xff, 0x01]))).toBe("decode('ff01', 'hex')");
    expect(byteaLiteral("x'); DROP TABLE t; --")).toBe(
      `decode('${Buffer.from("x'); DROP TABLE t; --").toString('hex')}', 'hex')`,
    );
    // An ASCII id has the same bytes whether Nest hands it over as a string or a Buffer.
    expect(byteaLiteral('evt-1')).toBe(byteaLiteral(Buffer.from('evt-1')));
  });

  it('builds the claim as one INSERT … ON CONFLICT (scope, id) DO NOTHING with server-side expiry', () => {
    expect(claimInTransactionSql(table, { scope: 'g/orders', id: 'e1' }, 60_000)).toBe(
      `INSERT INTO "kafka_dedup_inbox" (scope, id, expires_at) VALUES ('g/orders', decode('6531', 'hex'), ` +
        `now() + interval '60000 milliseconds') ON CONFLICT (scope, id) DO NOTHING`,
    );
    expect(() => expiresIn(-1)).toThrow();
    expect(() => expiresIn(1.5)).toThrow();
  });

  it('prepares the same claim under a name of its own per table, executed with literal arguments', () => {
    const claim = preparedClaimSql(table);
    expect(claim.name).toMatch(/^kafka_dedup_claim_[0-9a-f]{16}$/);
    expect(claim.prepare).toBe(
      `PREPARE ${claim.name}(text, bytea, bigint) AS INSERT INTO "kafka_dedup_inbox" (scope, id, expires_at) ` +
        `VALUES ($1, $2, now() + $3 * interval '1 millisecond') ON CONFLICT (scope, id) DO NOTHING`,
    );
    expect(preparedClaimSql(parseInboxTable(DEFAULT_INBOX_TABLE)!).name).toBe(claim.name);
    expect(preparedClaimSql(parseInboxTable('app.kafka_dedup_inbox')!).name).not.toBe(claim.name);
    expect(executeClaimSql(claim.name, "'g/orders'", 'e1', 60_000)).toBe(
      `EXECUTE ${claim.name}('g/orders', decode('6531', 'hex'), 60000)`,
    );
    expect(() => executeClaimSql(claim.name, "'s'", 'e1', -1)).toThrow();
    expect(() => executeClaimSql(claim.name, "'s'", 'e1', 1.5)).toThrow();
  });

  it('sweeps a bounded batch through the expires_at index, skipping rows a replica holds', () => {
    const sql = sweepSql(table);
    expect(sql).toContain('WHERE expires_at < now() LIMIT $1 FOR UPDATE SKIP LOCKED');
    expect(sql).toMatch(/^DELETE FROM "kafka_dedup_inbox" WHERE ctid = ANY/);
  });

  it('ships a migration file identical to the one the module runs', () => {
    const file = readFileSync(
      join(__dirname, '../../../migrations/001_kafka_dedup_inbox.sql'),
      'utf8',
    );
    const statements = file
      .split('\n')
      .filter((line) => !line.startsWith('--'))
      .join('\n')
      .trim();
    expect(statements).toBe(inboxMigrationSql(table));
  });
});
