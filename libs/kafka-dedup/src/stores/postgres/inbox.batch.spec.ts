import { DedupStoreError } from '../../errors/dedup.errors';
import { getInboxClient } from './inbox.context';
import {
  poolBatchSteps,
  runBatchTransaction,
  type BatchTransactionSteps,
  type InboxRow,
} from './inbox.batch';
import type { PgPoolClientLike, PgPoolLike, PgResultLike } from './inbox.drivers';
import { parseInboxTable } from './inbox.sql';

const table = parseInboxTable('kafka_dedup_inbox')!;
const hex = (id: string) => Buffer.from(id).toString('hex');

/** A pooled client that answers the claim with `fresh` ids and records every statement. */
function fakePool(fresh: string[], commitCommand = 'COMMIT') {
  const statements: string[] = [];
  const released: Array<boolean | Error | undefined> = [];
  const client: PgPoolClientLike = {
    query: async (text: string) => {
      statements.push(text);
      if (text.startsWith('BEGIN; INSERT')) {
        const rows = fresh.map((id) => ({ scope: 's', h: hex(id) }));
        return [
          { rows: [], rowCount: null },
          { rows, rowCount: rows.length },
        ] as PgResultLike[];
      }
      if (text === 'COMMIT') return { rows: [], rowCount: null, command: commitCommand };
      return { rows: [], rowCount: 0, command: text.split(' ')[0] };
    },
    release: (destroy) => void released.push(destroy),
  };
  const pool = { connect: async () => client } as unknown as PgPoolLike;
  return { pool, client, statements, released };
}

describe('runBatchTransaction (one transaction per chunk)', () => {
  it('claims every key in one sorted statement with BEGIN, runs the body on the client, commits', async () => {
    const { pool, client, statements, released } = fakePool(['b']);
    let claimed: readonly boolean[] = [];
    let inside: unknown;
    await runBatchTransaction(
      poolBatchSteps(pool),
      table,
      [
        { scope: 's', id: 'c' },
        { scope: 's', id: 'b' },
      ],
      60_000,
      async (c) => {
        claimed = c;
        inside = getInboxClient();
        return 2;
      },
      'postgres',
    );
    expect(claimed).toEqual([false, true]);
    expect(inside).toBe(client);
    expect(statements).toHaveLength(2);
    // Sorted: b before c, whatever the batch order (chunks sharing ids lock them in one order).
    expect(statements[0].indexOf(hex('b'))).toBeLessThan(statements[0].indexOf(hex('c')));
    expect(statements[0]).toContain('ON CONFLICT (scope, id) DO NOTHING RETURNING');
    expect(statements[1]).toBe('COMMIT');
    expect(released).toEqual([undefined]);
  });

  it('withdraws the claims of keys the body did not reach before committing', async () => {
    const { pool, statements } = fakePool(['a', 'b', 'c']);
    const keys = ['a', 'b', 'c'].map((id) => ({ scope: 's', id }));
    await runBatchTransaction(poolBatchSteps(pool), table, keys, 1_000, async () => 1, 'postgres');
    expect(statements[1]).toMatch(/^DELETE FROM "kafka_dedup_inbox" WHERE \(scope, id\) IN/);
    expect(statements[1]).not.toContain(hex('a'));
    expect(statements[1]).toContain(hex('b'));
    expect(statements[1]).toContain(hex('c'));
    expect(statements[2]).toBe('COMMIT');
  });

  it("rolls back and passes the body's own error through as it is", async () => {
    const { pool, statements } = fakePool(['a']);
    const boom = new Error('boom');
    await expect(
      runBatchTransaction(
        poolBatchSteps(pool),
        table,
        [{ scope: 's', id: 'a' }],
        1_000,
        async () => {
          throw boom;
        },
        'postgres',
      ),
    ).rejects.toBe(boom);
    expect(statements.at(-1)).toBe('ROLLBACK');
  });

  it('a COMMIT answering ROLLBACK (a statement error a handler caught) is a DedupStoreError', async () => {
    const { pool } = fakePool(['a'], 'ROLLBACK');
    const run = runBatchTransaction(
      poolBatchSteps(pool),
      table,
      [{ scope: 's', id: 'a' }],
      1_000,
      async () => 1,
      'postgres',
    );
    await expect(run).rejects.toBeInstanceOf(DedupStoreError);
    await expect(run).rejects.toMatchObject({ operation: 'commit' });
  });

  it('a failed claim is a DedupStoreError naming the claim; the body never runs', async () => {
    const steps: BatchTransactionSteps = {
      transaction: async () => {
        throw Object.assign(new Error('canceling statement due to lock timeout'), {
          code: '55P03',
        });
      },
      query: async (): Promise<InboxRow[]> => [],
      run: (fn) => fn(),
      check: async () => undefined,
    };
    const body = jest.fn(async () => 1);
    await expect(
      runBatchTransaction(steps, table, [{ scope: 's', id: 'a' }], 1_000, body, 'postgres'),
    ).rejects.toMatchObject({ name: 'DedupStoreError', operation: 'claim' });
    expect(body).not.toHaveBeenCalled();
  });

  /** Steps answering the claim with `rows`, as PostgreSQL would; records the claim's SQL. */
  function claimAnswering(rows: InboxRow[]) {
    const sql: string[] = [];
    const steps: BatchTransactionSteps = {
      transaction: async (first, body) => {
        sql.push(first);
        return body(rows);
      },
      query: async (): Promise<InboxRow[]> => [],
      run: (fn) => fn(),
      check: async () => undefined,
    };
    return { steps, sql };
  }

  /** What a batch transaction over `keys` tells its body was claimed. */
  async function claimedBy(
    steps: BatchTransactionSteps,
    keys: Parameters<typeof runBatchTransaction>[2],
  ): Promise<readonly boolean[]> {
    let claimed: readonly boolean[] = [];
    const body = async (c: readonly boolean[]) => {
      claimed = c;
      return keys.length;
    };
    await runBatchTransaction(steps, table, keys, 1_000, body, 'postgres');
    return claimed;
  }

  it('one scope: the claim answers ids only; every key new, some new, none new', async () => {
    const keys = ['c', 'a', 'b'].map((id) => ({ scope: 's', id }));
    for (const [fresh, expected] of [
      [
        ['a', 'b', 'c'],
        [true, true, true],
      ],
      [
        ['c', 'b'],
        [true, false, true],
      ],
      [[], [false, false, false]],
    ] as Array<[string[], boolean[]]>) {
      const { steps, sql } = claimAnswering(fresh.map((id) => ({ h: hex(id) })));
      expect(await claimedBy(steps, keys)).toEqual(expected);
      // Sorted by id: a, b, c.
      expect(sql[0]).toContain(`'{"${hex('a')}","${hex('b')}","${hex('c')}"}'::text[]`);
    }
  });

  it('several scopes: an id new in one scope and done in another is told apart', async () => {
    const keys = [
      { scope: 't2', id: 'x' },
      { scope: 't1', id: 'x' },
      { scope: 't1', id: Buffer.from([0xff, 0x00]) },
    ];
    const { steps, sql } = claimAnswering([
      { scope: 't1', h: hex('x') },
      { scope: 't1', h: 'ff00' },
    ]);
    expect(await claimedBy(steps, keys)).toEqual([false, true, true]);
    // Sorted by scope, then id: t1/x (78), t1/ff00, t2/x.
    expect(sql[0]).toContain(
      `ARRAY['t1', 't1', 't2']::text[], '{"${hex('x')}","ff00","${hex('x')}"}'`,
    );
  });
});
