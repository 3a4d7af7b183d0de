import type { PgPoolClientLike, PgPoolLike } from './inbox.drivers';
import { pooledTransaction } from './inbox.pooled-transaction';

/** A pooled client recording its statements; COMMIT answers `commitCommand` or throws. */
function fakePool(commit: string | Error = 'COMMIT') {
  const statements: string[] = [];
  const released: Array<boolean | Error | undefined> = [];
  const client: PgPoolClientLike = {
    query: async (text: string) => {
      statements.push(text);
      if (text === 'COMMIT') {
        if (commit instanceof Error) throw commit;
        return { rows: [], rowCount: null, command: commit };
      }
      return { rows: [], rowCount: 0, command: text };
    },
    release: (destroy) => void released.push(destroy),
  };
  const pool = { connect: async () => client } as unknown as PgPoolLike;
  return { pool, statements, released };
}

const tag = (stage: string, error: unknown) => new Error(`${stage}: ${(error as Error).message}`);

describe('pooledTransaction (the end of a pooled inbox transaction)', () => {
  it('commits what the body asks to keep and releases the client whole', async () => {
    const { pool, statements, released } = fakePool();
    const value = await pooledTransaction(pool, async (client) => {
      await client.query('BEGIN');
      return { value: 7, commit: true };
    });
    expect(value).toBe(7);
    expect(statements).toEqual(['BEGIN', 'COMMIT']);
    expect(released).toEqual([undefined]);
  });

  it('rolls back when the body asks for it (a duplicate) and answers its value', async () => {
    const { pool, statements } = fakePool();
    const value = await pooledTransaction(pool, async () => ({ value: 'dup', commit: false }));
    expect(value).toBe('dup');
    expect(statements).toEqual(['ROLLBACK']);
  });

  it("rolls back and rethrows the body's own error untouched", async () => {
    const { pool, statements } = fakePool();
    const own = new Error('handler');
    await expect(
      pooledTransaction(
        pool,
        async () => {
          throw own;
        },
        tag,
      ),
    ).rejects.toBe(own);
    expect(statements).toEqual(['ROLLBACK']);
  });

  it('fails the commit when COMMIT answers ROLLBACK (an aborted transaction)', async () => {
    const { pool, released } = fakePool('ROLLBACK');
    await expect(
      pooledTransaction(pool, async () => ({ value: 1, commit: true }), tag),
    ).rejects.toThrow(/^commit: the transaction was aborted/);
    expect(released).toEqual([undefined]);
  });

  it('discards the connection when COMMIT itself fails', async () => {
    const lost = new Error('connection terminated');
    const { pool, released } = fakePool(lost);
    await expect(
      pooledTransaction(pool, async () => ({ value: 1, commit: true }), tag),
    ).rejects.toThrow('commit: connection terminated');
    expect(released).toEqual([lost]);
  });

  it('names the connect step when no client can be checked out', async () => {
    const pool = {
      connect: async () => {
        throw new Error('refused');
      },
    } as unknown as PgPoolLike;
    await expect(
      pooledTransaction(pool, async () => ({ value: 1, commit: true }), tag),
    ).rejects.toThrow('connect: refused');
  });
});
