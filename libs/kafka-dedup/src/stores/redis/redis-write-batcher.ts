import type { Socket } from 'node:net';
import type { RedisLike } from './redis-client';

/**
 * Coalesces the commands a store sends during one turn of the event loop into one socket write.
 * With several partitions consumed concurrently, their replies arrive in one read and their next
 * claims are issued in the same turn: corking the socket until `process.nextTick` sends them with
 * one `writev` instead of one `write` system call each (a system call costs more than the command
 * on a loopback Redis). ioredis' own auto-pipelining does the same but builds a Pipeline, a
 * Promise and a result array per flush. No-op on a Cluster (a socket per node) or while the client
 * is not connected.
 * @internal
 */
export class RedisWriteBatcher {
  private corked: Socket | undefined;
  private readonly uncork = (): void => {
    const socket = this.corked;
    this.corked = undefined;
    socket?.uncork();
  };

  constructor(private readonly client: RedisLike) {}

  /** Call before sending a command: it is written with the others of this turn. */
  hold(): void {
    if (this.corked !== undefined) return;
    const client = this.client as { status?: string; stream?: Socket; isCluster?: boolean };
    if (client.isCluster === true || client.status !== 'ready') return;
    const socket = client.stream;
    if (socket === undefined || typeof socket.cork !== 'function') return;
    socket.cork();
    this.corked = socket;
    process.nextTick(this.uncork);
  }
}
