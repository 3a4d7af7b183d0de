import { Metadata, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { Observable } from 'rxjs';
import type { PooledCallOptions } from '../options/grpc-pool-options.interface';
import type { PoolConnection } from '../connection/pool-connection';

/** Kind of a streaming method. @internal */
export interface StreamKind {
  requestStream: boolean;
  responseStream: boolean;
}

/**
 * Sends a streaming call on `connection`, without retries (a stream may have been partly
 * consumed; replaying it is the caller's decision).
 * - server streaming: the grpc-js stream, or an Observable (`mode: 'observable'`)
 * - client streaming: a Promise of the response; `requestOrWriter(call)` writes the requests
 * - bidi streaming: the grpc-js call
 * @internal
 */
export function startStream(
  connection: PoolConnection,
  service: string,
  method: string,
  kind: StreamKind,
  requestOrWriter: unknown,
  options: PooledCallOptions,
  deadline: number,
  mode: 'promise' | 'observable',
): unknown {
  const client = connection.client(service) as unknown as Record<string, Function>;
  const metadata = options.metadata ?? new Metadata();
  const callOptions = { deadline };
  if (kind.requestStream) {
    if (kind.responseStream) return client[method].call(client, metadata, callOptions);
    return new Promise((resolve, reject) => {
      const call = client[method].call(
        client,
        metadata,
        callOptions,
        (e: ServiceError | null, r: unknown) => (e ? reject(e) : resolve(r)),
      );
      (requestOrWriter as ((call: unknown) => void) | undefined)?.(call);
    });
  }
  const call = client[method].call(
    client,
    requestOrWriter,
    metadata,
    callOptions,
  ) as ClientReadableStream<unknown>;
  if (mode === 'promise') return call;
  return new Observable((subscriber) => {
    call.on('data', (d) => subscriber.next(d));
    call.on('error', (e) => subscriber.error(e));
    call.on('end', () => subscriber.complete());
    return () => call.cancel();
  });
}
