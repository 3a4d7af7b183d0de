import { Metadata, type Channel, type ServiceError } from '@grpc/grpc-js';
import type { Attempt, AttemptCall, AttemptInvoker } from './attempt';

/** What `callWithRetry` hands to the caller's function for one attempt. */
export interface PooledAttempt {
  /** The connection's grpc-js channel. */
  readonly channel: Channel;
  /** A grpc-js client of `service` bound to this connection. */
  client<C = unknown>(service: string): C;
  /** Deadline of this attempt. */
  readonly deadline: Date;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Position of the connection in the pool. */
  readonly connection: number;
}

/**
 * Sends one attempt of unary `service`/`method` with the grpc-js client of the attempt's
 * connection; the returned call is the attempt's cancel handle (hedging). @internal
 */
export function unaryInvoker(service: string, method: string): AttemptInvoker {
  return {
    start(call: AttemptCall, attempt: Attempt): void {
      const client = attempt.connection.client(service) as unknown as Record<string, Function>;
      const options = call.callOptions;
      attempt.handle = client[method].call(
        client,
        call.payload,
        options?.metadata ?? new Metadata(),
        { deadline: attempt.deadline },
        (error: ServiceError | null, response: unknown) => call.settle(attempt, error, response),
      );
    },
  };
}

/** callWithRetry: the caller's function runs each attempt (it cannot be cancelled). @internal */
export const RAW_INVOKER: AttemptInvoker = {
  start(call: AttemptCall, attempt: Attempt): void {
    const connection = attempt.connection;
    const fn = call.payload as (attempt: PooledAttempt) => Promise<unknown>;
    fn({
      channel: connection.channel,
      client: <C>(name: string) => connection.client(name) as C,
      deadline: new Date(attempt.deadline),
      attempt: attempt.number,
      connection: connection.index,
    }).then(
      (value) => call.settle(attempt, null, value),
      (error: unknown) =>
        call.settle(attempt, error ?? new Error('callWithRetry attempt rejected')),
    );
  },
};
