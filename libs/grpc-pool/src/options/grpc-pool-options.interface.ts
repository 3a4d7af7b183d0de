import type { ChannelOptions } from '@grpc/grpc-js';
import type { Options as ProtoLoaderOptions } from '@grpc/proto-loader';
import type { GrpcPoolDiscoveryOptions, GrpcPoolSizeOptions } from './discovery-options.interface';

/** gRPC status names the pool may retry (as in `@grpc/grpc-js` `status`). */
export type GrpcStatusName =
  | 'CANCELLED'
  | 'UNKNOWN'
  | 'DEADLINE_EXCEEDED'
  | 'RESOURCE_EXHAUSTED'
  | 'ABORTED'
  | 'INTERNAL'
  | 'UNAVAILABLE';

/** TLS credentials; paths or contents (PEM). Set `cert` + `key` for mTLS. */
export interface GrpcPoolTlsOptions {
  /** CA bundle that signs the server certificate (default: the system roots). */
  ca?: string | Buffer;
  /** Client certificate chain for mTLS. */
  cert?: string | Buffer;
  /** Client private key for mTLS. */
  key?: string | Buffer;
  /** Override the name checked against the server certificate (`grpc.ssl_target_name_override`). */
  serverName?: string;
}

/** Retry behaviour of pooled unary calls. */
export interface GrpcPoolRetryOptions {
  /** Attempts per call, the first included, each on a different connection when one is free. @default 3 */
  maxAttempts?: number;
  /** First backoff, in ms; later ones grow exponentially with decorrelated jitter. @default 10 */
  initialBackoffMs?: number;
  /** Largest backoff, in ms. @default 100 */
  maxBackoffMs?: number;
  /** Codes retried for every method. @default ['UNAVAILABLE'] */
  retryOn?: GrpcStatusName[];
  /** Codes also retried for methods marked idempotent. @default ['DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED', 'ABORTED'] */
  idempotentRetryOn?: GrpcStatusName[];
  /**
   * Deadline of one attempt, in ms, within the call's deadline; lets an idempotent call give up on
   * a slow connection and try another. @default none (an attempt may use the whole deadline)
   */
  attemptTimeoutMs?: number;
  /** Retries allowed over a sliding window: `minPerSecond` + `ratio` x requests. @default { ratio: 0.2, minPerSecond: 10, windowMs: 10_000 } */
  budget?: { ratio?: number; minPerSecond?: number; windowMs?: number } | false;
}

/** Per-connection circuit breaker (outlier ejection). */
export interface GrpcPoolBreakerOptions {
  /** Consecutive connection-level failures that eject a connection. @default 1 */
  failureThreshold?: number;
  /**
   * Consecutive client-side timeouts (an attempt's deadline passed while sibling connections
   * answered) that eject a connection. @default 3
   */
  timeoutThreshold?: number;
  /**
   * Eject a connection when at least `threshold` of its attempts failed (UNAVAILABLE or timed
   * out) over `windowMs`, once it saw `minRequests` (Envoy's failure-percentage detection).
   * `false` disables. @default { threshold: 0.5, minRequests: 20, windowMs: 10_000 }
   */
  failureRate?: { threshold?: number; minRequests?: number; windowMs?: number } | false;
  /**
   * How long an ejected connection is skipped before the pool probes it
   * (`grpc.health.v1.Health/Check`); only a probe that gets an answer brings it back. @default 1_000
   */
  ejectionMs?: number;
}

/** How each attempt picks its connection. */
export interface GrpcPoolBalancerOptions {
  /**
   * `'peak-ewma'`: the connection with the least latency x (outstanding calls + 1), latency an
   * EWMA raised by unanswered calls (slow or frozen connections stop getting calls);
   * `'round-robin'`: rotate over healthy connections.
   * @default 'peak-ewma'
   */
  policy?: 'peak-ewma' | 'round-robin';
  /**
   * Time constant of the latency estimate, in ms: how fast it forgets an idle connection's latency
   * (a connection that was slow gets a call again after a few of these) and how much an answer
   * after a pause weighs. @default 250
   */
  decayMs?: number;
}

/**
 * Hedging of idempotent unary calls (gRFC A6): when no answer came within `hedgingDelayMs`, the
 * call is also sent on another connection, up to `maxAttempts` in all; the first answer wins and
 * the others are cancelled. Hedges draw from the retry budget.
 *
 * @example
 * hedging: { maxAttempts: 2, hedgingDelayMs: 20 }
 */
export interface GrpcPoolHedgingOptions {
  /** Attempts in all, the first included (2 to 5). @default 2 */
  maxAttempts?: number;
  /** Delay before each further hedge, in ms (0: all at once). @default 50 */
  hedgingDelayMs?: number;
  /**
   * Codes after which the next hedge is sent at once; any other failure code ends the call.
   * @default ['UNAVAILABLE']
   */
  nonFatalStatusCodes?: GrpcStatusName[];
}

/** Active health checks with `grpc.health.v1.Health/Check`. */
export interface GrpcPoolHealthCheckOptions {
  /** @default 5_000 */
  intervalMs?: number;
  /** Service name sent in the request (`''`: the server as a whole). @default '' */
  service?: string;
  /** @default 1_000 */
  timeoutMs?: number;
}

/** Options of `GrpcPoolModule.register()`. */
export interface GrpcPoolOptions {
  /** Name of the pool: injection token (`@InjectGrpcPool(name)`) and metric label. */
  name: string;
  /** Proto package(s) that hold the services, e.g. `'users.v1'`. */
  package: string | string[];
  /** Path(s) of the .proto file(s). */
  protoPath: string | string[];
  /** `@grpc/proto-loader` options. @default { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true } */
  loader?: ProtoLoaderOptions;
  /**
   * One target (`host:port`); exclusive with `urls`. `dns:///host:port` turns on discovery (the
   * pool resolves the name and connects to every address; `discovery: false` leaves it to grpc-js).
   */
  url?: string;
  /** Several targets; `size` connections are opened to each. */
  urls?: string[];
  /**
   * DNS service discovery ({@link GrpcPoolDiscoveryOptions}); on by default for a `dns:///` url,
   * `false` turns it off.
   */
  discovery?: GrpcPoolDiscoveryOptions | false;
  /**
   * Connections per target or discovered address, each its own HTTP/2 connection (`1`: a single
   * channel); `{ min, max, … }` sizes them to the load ({@link GrpcPoolSizeOptions}). @default 3
   */
  size?: number | GrpcPoolSizeOptions;
  /** `{ insecure: true }` for plaintext (only when asked for) or `{ tls: {...} }`. */
  credentials: { insecure: true } | { tls: GrpcPoolTlsOptions };
  /** Default deadline of a call (all attempts included), in ms. @default 5_000 */
  timeoutMs?: number;
  retry?: GrpcPoolRetryOptions;
  breaker?: GrpcPoolBreakerOptions;
  balancer?: GrpcPoolBalancerOptions;
  /** Hedge every unary call of the pool (declares them idempotent); off by default. */
  hedging?: GrpcPoolHedgingOptions | false;
  /** Active health checks; off by default. */
  healthCheck?: GrpcPoolHealthCheckOptions | false;
  /** Recycle each connection after this age (±10% jitter), so new backends behind an L4 balancer get traffic. */
  maxConnectionAgeMs?: number;
  /**
   * Keepalive pings (`grpc.keepalive_*`): a connection whose ping is not answered within
   * `timeoutMs` is closed and its calls fail over. `false` turns pings off.
   * @default { timeMs: 1_000, timeoutMs: 1_000, permitWithoutCalls: false } (pings only while calls are outstanding)
   */
  keepalive?: { timeMs?: number; timeoutMs?: number; permitWithoutCalls?: boolean } | false;
  /** Extra grpc-js channel options, passed through (pool-owned ones win). */
  channelOptions?: ChannelOptions;
}

/** Per-call options of pooled methods (second argument). */
export interface PooledCallOptions {
  /** Deadline of the whole call (all attempts), as ms from now or a Date. */
  deadline?: number | Date;
  /** Metadata (headers) sent with each attempt. */
  metadata?: import('@grpc/grpc-js').Metadata;
  /** Allow retrying the idempotent codes for this call. */
  idempotent?: boolean;
}

/** Per-method policy of `@UsePooledGrpc()`. */
export interface PooledMethodPolicy {
  /** Retry `idempotentRetryOn` codes too (e.g. DEADLINE_EXCEEDED of an attempt). */
  idempotent?: boolean;
  /** Override `retry.maxAttempts`. */
  maxAttempts?: number;
  /** Override `timeoutMs` (deadline of each call, all attempts included). */
  timeoutMs?: number;
  /** Override `retry.attemptTimeoutMs`. */
  attemptTimeoutMs?: number;
  /** Hedge this method's calls (see {@link GrpcPoolHedgingOptions}); `false` turns the pool's hedging off. */
  hedging?: GrpcPoolHedgingOptions | false;
}
