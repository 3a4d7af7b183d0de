/**
 * DNS service discovery by the pool itself: the name is resolved (A and AAAA records) and `size`
 * connections are opened to **each** address, re-resolved every `refreshIntervalMs`.
 *
 * @example
 * discovery: { name: 'auth.default.svc.cluster.local:50061', refreshIntervalMs: 10_000 }
 */
export interface GrpcPoolDiscoveryOptions {
  /**
   * `host:port` to resolve. Defaults to the host and port of `url` when it is `dns:///host:port`
   * (give either a `dns:///` url or `discovery.name`, not both with different names).
   */
  name?: string;
  /**
   * DNS servers to ask (`'10.0.0.10'`, `'127.0.0.1:5353'`, `'[::1]:53'`).
   * @default the system's (`/etc/resolv.conf`)
   */
  servers?: string[];
  /** Re-resolve every this many ms. @default 10_000 */
  refreshIntervalMs?: number;
  /**
   * Least time between two resolutions, in ms: a connection ejected or failing asks for an early
   * re-resolution, at most this often. @default 1_000
   */
  minRefreshIntervalMs?: number;
  /** Deadline of one lookup (A and AAAA together), in ms. @default 2_000 */
  lookupTimeoutMs?: number;
  /**
   * How long bootstrap waits for a name that resolves to nothing (or fails) before failing, in
   * ms. @default 10_000
   */
  startupTimeoutMs?: number;
  /**
   * A new address's connections must be READY (and SERVING with `healthCheck`) within this many
   * ms to become eligible; otherwise they are closed and tried again at the next resolution.
   * @default 5_000
   */
  warmupTimeoutMs?: number;
  /**
   * Slow start of a new address (latency-aware balancing): its latency estimate starts above the
   * pool's and decays to it over this many ms, so a cold pod earns its share instead of being
   * flooded. `0` disables. @default 1_000
   */
  slowStartMs?: number;
  /**
   * A removed address gets no new calls; its calls in flight may finish for up to this many ms
   * before its connections are closed. @default 30_000
   */
  drainTimeoutMs?: number;
}

/**
 * Load-driven size: connections **per address** (or per target) between `min` and `max`. The
 * pool grows an address's connections when its calls in flight per connection pass
 * `targetInFlight` (below the server's HTTP/2 stream limit, beyond which grpc-js queues calls
 * silently), and shrinks them after `shrinkAfterMs` of low load by draining (never failing a call).
 *
 * @example
 * size: { min: 1, max: 8, maxConcurrentStreams: 100 }
 */
export interface GrpcPoolSizeOptions {
  /** Fewest connections per address. @default 1 */
  min?: number;
  /** Most connections per address. @default 8 */
  max?: number;
  /**
   * The server's `SETTINGS_MAX_CONCURRENT_STREAMS` (grpc-js does not expose the value the peer
   * sent, so it is an option; grpc-js servers: `grpc.max_concurrent_streams`). @default 100
   */
  maxConcurrentStreams?: number;
  /** Calls in flight per connection above which the pool grows. @default 75% of maxConcurrentStreams */
  targetInFlight?: number;
  /** Load is sampled every 100 ms and a decision taken every this many ms. @default 1_000 */
  intervalMs?: number;
  /** Low load must last this long (ms) before a connection is drained. @default 30_000 */
  shrinkAfterMs?: number;
  /** Most connections added or drained per address in one decision. @default 2 */
  maxStep?: number;
}
