import type { KafkaMessage } from 'kafkajs';
import type { HandlerPlan, HandlerRunner, PreClaimContext } from '../dedup.handler-plan';
import { DedupStoreError } from '../errors/dedup.errors';
import type { DedupKey } from '../interfaces/dedup-key.interface';
import type { BatchTransactionBody } from '../stores/dedup.store';
import type { ChunkOffsets } from './chunk-offsets';
import {
  InboxBatchTransaction,
  isTransient,
  type TransactionSlot,
} from './inbox-batch.transaction';

/** A transactional store in memory: a chunk's claims and its handlers' writes commit together. */
class FakeInbox {
  done = new Set<string>();
  rows: string[] = [];
  transactions = 0;
  failNext?: Error;
  /** Writes of the transaction in flight. */
  pending: string[] = [];

  async run(keys: readonly DedupKey[], body: BatchTransactionBody): Promise<void> {
    this.transactions++;
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = undefined;
      throw error;
    }
    const claimed = keys.map((k) => !this.done.has(String(k.id)));
    this.pending = [];
    const reached = await body(claimed); // a throw rolls back: pending is dropped
    keys.forEach((k, i) => {
      if (i < reached && claimed[i]) this.done.add(String(k.id));
    });
    this.rows.push(...this.pending);
  }
}

function setup(ids: Array<string | null>, limits = { maxMessages: 500, maxMs: 60_000 }) {
  const inbox = new FakeInbox();
  const counted = { processed: 0, duplicates: 0 };
  const service = {
    runBatchTransaction: (keys: readonly DedupKey[], body: BatchTransactionBody) =>
      inbox.run(keys, body),
    countBatch: (_topic: string, processed: number, duplicates: number) => {
      counted.processed += processed;
      counted.duplicates += duplicates;
    },
  };
  const runner = {
    service,
    keyOf: (_plan: HandlerPlan, message: unknown) =>
      (message as { id: string | null }).id === null
        ? { missing: 'header' }
        : { scope: 't', id: (message as { id: string }).id },
  } as unknown as HandlerRunner;
  const slots: TransactionSlot[] = ids.map((id, i) => ({
    message: { offset: String(i) } as KafkaMessage,
    context: { getMessage: () => ({ id }), preClaimed: false } as unknown as PreClaimContext,
  }));
  const calls: string[] = [];
  let fail: (id: string | null, attempt: number) => unknown = () => undefined;
  const resolved: string[] = [];
  const run = new InboxBatchTransaction(
    { plan: {} as HandlerPlan, runner },
    limits,
    slots,
    't',
    0,
    { isRunning: () => true, isStale: () => false },
    {
      dispatch: async (slot) => {
        const id = (slot.context!.getMessage() as unknown as { id: string | null }).id;
        calls.push(String(id));
        const error = fail(id, calls.filter((c) => c === String(id)).length);
        if (error) throw error;
        inbox.pending.push(String(id));
        if (limits.maxMs < 5) await new Promise((resolve) => setTimeout(resolve, 3));
      },
      failure: (_t, _p, offset, error) =>
        Object.assign(new Error(`redeliver from ${offset}`), { offset, cause: error }),
      beat: async () => undefined,
    },
    {
      resolve: (offset: string) => resolved.push(offset),
      commitIfDue: async () => undefined,
    } as unknown as ChunkOffsets,
  );
  return {
    run,
    inbox,
    calls,
    counted,
    resolved,
    onDispatch: (f: typeof fail) => (fail = f),
  };
}

describe('InboxBatchTransaction', () => {
  it('runs a chunk in one transaction: new ids in order, copies and done ids skipped and counted', async () => {
    const t = setup(['a', 'b', 'a', 'c', 'b', 'd']);
    t.inbox.done.add('c');
    expect(await t.run.run(0)).toBe(6);
    expect(t.inbox.transactions).toBe(1);
    expect(t.calls).toEqual(['a', 'b', 'd']);
    expect(t.inbox.rows).toEqual(['a', 'b', 'd']);
    expect(t.counted).toEqual({ processed: 3, duplicates: 3 });
    expect(t.resolved.at(-1)).toBe('5');
  });

  it('caps a transaction at maxMessages', async () => {
    const t = setup(['a', 'b', 'c', 'd', 'e'], { maxMessages: 2, maxMs: 60_000 });
    await t.run.run(0);
    expect(t.inbox.transactions).toBe(3);
    expect(t.resolved).toEqual(['1', '3', '4']);
    expect(t.inbox.rows).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('caps a transaction at maxMs: the claims of messages it did not reach are withdrawn', async () => {
    const t = setup(['a', 'b', 'c', 'd'], { maxMessages: 500, maxMs: 1 });
    expect(await t.run.run(0)).toBe(4);
    expect(t.inbox.transactions).toBeGreaterThan(1);
    expect(t.calls).toEqual(['a', 'b', 'c', 'd']);
    expect([...t.inbox.done].sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a handler throwing at message k: 0..k-1 run again and commit, k is redelivered, nothing after it runs', async () => {
    const t = setup(['a', 'b', 'c', 'd', 'e']);
    t.onDispatch((id, attempt) => (id === 'c' && attempt === 1 ? new Error('boom') : undefined));
    await expect(t.run.run(0)).rejects.toMatchObject({ offset: '2' });
    expect(t.calls).toEqual(['a', 'b', 'c', 'a', 'b']);
    expect(t.inbox.rows).toEqual(['a', 'b']);
    expect([...t.inbox.done]).toEqual(['a', 'b']);
    expect(t.resolved).toEqual(['1']);
    expect(t.counted.processed).toBe(2);
    // The redelivery from k processes the rest once.
    const again = setup(['c', 'd', 'e']);
    again.inbox.done = t.inbox.done;
    await again.run.run(0);
    expect(again.calls).toEqual(['c', 'd', 'e']);
  });

  it('a throw at the first message of a chunk re-runs nothing', async () => {
    const t = setup(['a', 'b']);
    t.onDispatch((id) => (id === 'a' ? new Error('boom') : undefined));
    await expect(t.run.run(0)).rejects.toMatchObject({ offset: '0' });
    expect(t.calls).toEqual(['a']);
    expect(t.inbox.transactions).toBe(1);
  });

  it('a deadlock or serialization failure redelivers the whole chunk without re-running its start', async () => {
    const t = setup(['a', 'b', 'c']);
    const deadlock = Object.assign(new Error('deadlock detected'), { code: '40P01' });
    t.onDispatch((id) => (id === 'b' ? { cause: deadlock } : undefined));
    await expect(t.run.run(0)).rejects.toMatchObject({ offset: '0' });
    expect(t.calls).toEqual(['a', 'b']);
    expect(t.inbox.rows).toEqual([]);
    expect(t.resolved).toEqual([]);
  });

  it('a store failure (claim, COMMIT) redelivers the whole chunk; earlier chunks stay committed', async () => {
    const t = setup(['a', 'b', 'c', 'd'], { maxMessages: 2, maxMs: 60_000 });
    const runChunk = t.inbox.run.bind(t.inbox);
    let n = 0;
    t.inbox.run = async (keys, body) => {
      if (++n === 2) throw new DedupStoreError('commit', 'postgres', { cause: new Error('gone') });
      return runChunk(keys, body);
    };
    await expect(t.run.run(0)).rejects.toMatchObject({ offset: '2' });
    expect(t.inbox.rows).toEqual(['a', 'b']);
    expect(t.resolved).toEqual(['1']);
  });

  it('a message without an id runs on its own path between chunks', async () => {
    const t = setup(['a', null, 'b']);
    await t.run.run(0);
    expect(t.calls).toEqual(['a', 'null', 'b']);
    expect(t.inbox.transactions).toBe(2);
    expect(t.resolved).toEqual(['0', '1', '2']);
  });

  it('recognises transient database errors along the cause chain', () => {
    expect(isTransient({ cause: { code: '40001' } })).toBe(true);
    expect(isTransient({ code: '08006' })).toBe(true);
    expect(isTransient({ code: '57014' })).toBe(true);
    expect(isTransient(new Error('boom'))).toBe(false);
    expect(isTransient({ code: '23505' })).toBe(false);
  });
});
