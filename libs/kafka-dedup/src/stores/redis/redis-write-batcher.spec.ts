import type { RedisLike } from './redis-client';
import { RedisWriteBatcher } from './redis-write-batcher';

function fakeClient(fields: Record<string, unknown>) {
  const calls: string[] = [];
  const stream = { cork: () => calls.push('cork'), uncork: () => calls.push('uncork') };
  return { client: { stream, ...fields } as unknown as RedisLike, calls };
}

const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('RedisWriteBatcher', () => {
  it('sends a command at once while none is outstanding', async () => {
    const { client, calls } = fakeClient({ status: 'ready' });
    const batcher = new RedisWriteBatcher(client);
    batcher.sending();
    batcher.answered();
    batcher.sending();
    await nextTick();
    expect(calls).toEqual([]);
  });

  it('corks the commands sent while others are outstanding until the next tick, once per turn', async () => {
    const { client, calls } = fakeClient({ status: 'ready' });
    const batcher = new RedisWriteBatcher(client);
    batcher.sending(); // outstanding: goes out at once
    batcher.sending();
    batcher.sending();
    expect(calls).toEqual(['cork']);
    await nextTick();
    expect(calls).toEqual(['cork', 'uncork']);
    batcher.answered();
    batcher.answered();
    batcher.sending(); // one still outstanding
    await nextTick();
    expect(calls).toEqual(['cork', 'uncork', 'cork', 'uncork']);
  });

  it('leaves a client that is not connected, and a cluster, alone', async () => {
    for (const fields of [{ status: 'connecting' }, { status: 'ready', isCluster: true }]) {
      const { client, calls } = fakeClient(fields);
      const batcher = new RedisWriteBatcher(client);
      batcher.sending();
      batcher.sending();
      await nextTick();
      expect(calls).toEqual([]);
    }
  });
});
