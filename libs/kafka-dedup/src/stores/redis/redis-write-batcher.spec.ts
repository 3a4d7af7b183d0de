import type { RedisLike } from './redis-client';
import { RedisWriteBatcher } from './redis-write-batcher';

function fakeClient(fields: Record<string, unknown>) {
  const calls: string[] = [];
  const stream = { cork: () => calls.push('cork'), uncork: () => calls.push('uncork') };
  return { client: { stream, ...fields } as unknown as RedisLike, calls };
}

const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('RedisWriteBatcher', () => {
  it('corks the socket once per turn and uncorks it on the next tick', async () => {
    const { client, calls } = fakeClient({ status: 'ready' });
    const batcher = new RedisWriteBatcher(client);
    batcher.hold();
    batcher.hold();
    batcher.hold();
    expect(calls).toEqual(['cork']);
    await nextTick();
    expect(calls).toEqual(['cork', 'uncork']);
    batcher.hold();
    await nextTick();
    expect(calls).toEqual(['cork', 'uncork', 'cork', 'uncork']);
  });

  it('leaves a client that is not connected, and a cluster, alone', async () => {
    for (const fields of [{ status: 'connecting' }, { status: 'ready', isCluster: true }]) {
      const { client, calls } = fakeClient(fields);
      new RedisWriteBatcher(client).hold();
      await nextTick();
      expect(calls).toEqual([]);
    }
  });
});
