import type { RedisLike } from './redis-client';

/** Errors that waiting will not heal: authentication and certificate problems. */
const AUTH_ERROR = /WRONGPASS|NOAUTH|NOPERM|invalid password|invalid username|AUTH\b/i;
const TLS_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|HOSTNAME_MISMATCH|ALTNAME/i;

/**
 * Follows a client's connection: keeps the last connection error (ioredis reports WRONGPASS or a
 * rejected certificate only as an `error` event, while commands merely fail with "Stream isn't
 * writeable"), and waits for the client to be ready at bootstrap, failing early on errors that
 * waiting cannot heal. @internal
 */
export class RedisConnectionWatch {
  /** The last error the connection reported since it was last ready. */
  lastError?: Error;
  private readonly listeners: Array<[string, (...args: any[]) => void]> = [];

  constructor(
    private readonly client: RedisLike,
    onError: (error: Error) => void,
  ) {
    this.listen('error', (error: Error) => {
      this.lastError = unwrap(error);
      onError(this.lastError);
    });
    // Cluster: errors of one node's connection.
    this.listen('node error', (error: Error) => {
      this.lastError = unwrap(error);
      onError(this.lastError);
    });
    this.listen('ready', () => (this.lastError = undefined));
  }

  get ready(): boolean {
    return this.client.status === 'ready';
  }

  /**
   * Resolves once the client is ready and answers `PING`, within `timeoutMs`; rejects naming the
   * cause (the last connection error, or the timeout) otherwise.
   */
  async check(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ready) {
      if (this.lastError && isPermanent(this.lastError)) throw this.lastError;
      if (this.client.status === 'end') throw this.lastError ?? new Error('connection closed');
      if (Date.now() >= deadline) {
        throw this.lastError
          ? this.lastError
          : new Error(`not connected within ${timeoutMs} ms (status: ${this.client.status})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await this.within(this.client.ping(), Math.max(1, deadline - Date.now()), 'PING');
  }

  /** `promise`, or a rejection naming `what` once `timeoutMs` has passed (bootstrap only). */
  async within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        promise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`${what} not answered within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Attaches the last connection error to a command failure while disconnected. */
  annotate(error: unknown): unknown {
    const last = this.lastError;
    if (last !== undefined && error instanceof Error && !this.ready && error !== last) {
      (error as { lastConnectionError?: Error }).lastConnectionError = last;
    }
    return error;
  }

  /** Stops listening to the client (an injected client outlives the store). */
  detach(): void {
    for (const [event, listener] of this.listeners) this.client.off(event, listener);
    this.listeners.length = 0;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private listen(event: string, listener: (...args: any[]) => void): void {
    this.client.on(event, listener);
    this.listeners.push([event, listener]);
  }
}

/** Whether waiting cannot heal `error` (wrong credentials, an untrusted certificate). @internal */
export function isPermanent(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    AUTH_ERROR.test(error.message) ||
    TLS_ERROR.test(error.message) ||
    (typeof code === 'string' && TLS_ERROR.test(code))
  );
}

/** ioredis' ClusterAllFailedError hides the node's own error in `lastNodeError`. */
function unwrap(error: Error): Error {
  const inner = (error as { lastNodeError?: unknown }).lastNodeError;
  return inner instanceof Error ? inner : error;
}
