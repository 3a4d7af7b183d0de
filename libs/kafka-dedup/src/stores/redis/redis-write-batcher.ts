import type { Socket } from 'node:net';
import type { RedisLike } from './redis-client';

/**
 * Decides when the store's commands reach the socket, so that a consumer of several partitions
 * pays few system calls without waiting longer (on a loopback Redis a `write` system call costs
 * more than the command itself):
 * - a command sent while none of the store's commands is outstanding goes out at once: Redis
 *   starts on it while this process handles its other partitions;
 * - commands sent while others are outstanding are corked until the end of this turn of the event
 *   loop (`process.nextTick`) and go out in one `writev`.
 * Measured with 3 partitions consumed concurrently: 12–15 K events/s against ~9 K when corking
 * every turn and ~8 K with one write per command. ioredis' auto-pipelining batches too, but
 * builds a Pipeline, a Promise and a result array per flush. No-op on a Cluster (one socket per
 * node) or while the client is not connected.
 * @internal
 */
export class RedisWriteBatcher {
  private corked: Socket | undefined;
  private outstanding = 0;
  private readonly uncork = (): void => {
    const socket = this.corked;
    this.corked = undefined;
    socket?.uncork();
  };

  constructor(private readonly client: RedisLike) {}

  /** Call just before sending a command whose answer is awaited; then {@link answered}. */
  sending(): void {
    if (this.outstanding++ === 0 || this.corked !== undefined) return;
    const client = this.client as { status?: string; stream?: Socket; isCluster?: boolean };
    if (client.isCluster === true || client.status !== 'ready') return;
    const socket = client.stream;
    if (socket === undefined || typeof socket.cork !== 'function') return;
    socket.cork();
    this.corked = socket;
    process.nextTick(this.uncork);
  }

  /** Call when the command announced by {@link sending} answered or failed. */
  answered(): void {
    this.outstanding--;
  }
}
