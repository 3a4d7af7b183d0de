import type { PoolConnection } from '../connection/pool-connection';

/** Connections a call has already tried (skipped for its next attempt when another is free). @internal */
export interface TriedConnections {
  has(connection: PoolConnection): boolean;
}

/**
 * Chooses the connection of one attempt among those whose circuit is closed. A picker answers a
 * retry or a hedge (`tried` given) through {@link ReadyFirst}, so every picker prefers a READY
 * connection the call has not tried yet. @internal
 */
export interface Picker {
  /**
   * A connection with a closed circuit, preferring ones not in `tried`; `reuse` allows falling
   * back to a tried one (a retry on the lone healthy connection). Undefined when none fits.
   */
  pick(
    connections: readonly PoolConnection[],
    tried: TriedConnections | undefined,
    reuse: boolean,
    /** performance.now(), when the caller has it already. */
    now?: number,
  ): PoolConnection | undefined;
}
