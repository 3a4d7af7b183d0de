/**
 * Bootstrap gave up on a pool whose name resolved to no address (NXDOMAIN, an empty answer or a
 * failing DNS server) within `discovery.startupTimeoutMs`.
 */
export class GrpcPoolDiscoveryError extends Error {
  constructor(
    readonly pool: string,
    /** The `host:port` that was resolved. */
    readonly target: string,
    /** The resolver's last error (`ENOTFOUND (queryA ENOTFOUND auth.default.svc)`). */
    readonly resolverError: string,
    readonly waitedMs: number,
  ) {
    super(
      `GrpcPool "${pool}": "${target}" resolved to no address within ${waitedMs} ms ` +
        `(discovery.startupTimeoutMs); last resolver error: ${resolverError}`,
    );
    this.name = 'GrpcPoolDiscoveryError';
  }
}
