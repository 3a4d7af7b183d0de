import type { Logger } from '@nestjs/common';
import type { ResolvedGrpcPoolOptions } from '../options/grpc-pool.options';
import type { PoolConnection } from '../connection/pool-connection';
import { DiscoveryMetrics } from './discovery.metrics';
import { DnsLookup, type HostLookup } from './dns-lookup';
import { EndpointResolver } from './endpoint-resolver';
import { EndpointSet, type ConnectionList, type GrpcPoolEndpointReport } from './endpoint-set';
import { Resizer } from './resizer';

/** What discovery needs from its pool. @internal */
export interface DiscoveryPoolHooks {
  readonly connections: ConnectionList;
  /** One health check of a connection (when health checks are on). */
  serving?(connection: PoolConnection): Promise<boolean>;
  /** Connections came or went. */
  changed(): void;
}

/**
 * The pool's endpoint management, present when the pool discovers its addresses (`discovery`)
 * or sizes itself to the load (`size: { min, max }`): the endpoint set, the resolver feeding it
 * and the resizer. The pool calls it at bootstrap (`ready`, `start`), on an ejection
 * (`connectionFailed`), for reports and at shutdown; never per call. @internal
 */
export class PoolDiscovery {
  private readonly endpoints: EndpointSet;
  private readonly resolver?: EndpointResolver;
  private readonly resizer?: Resizer;

  private constructor(
    options: ResolvedGrpcPoolOptions,
    hooks: DiscoveryPoolHooks,
    logger: Logger,
    lookup: HostLookup | undefined,
  ) {
    const metrics = new DiscoveryMetrics(options.name);
    const discovery = options.discovery;
    this.endpoints = new EndpointSet(
      {
        connections: hooks.connections,
        serving: options.healthCheck ? hooks.serving?.bind(hooks) : undefined,
        changed: () => hooks.changed(),
        logger,
        metrics,
      },
      {
        perAddress: options.size,
        warmupTimeoutMs: discovery ? discovery.warmupTimeoutMs : 5_000,
        slowStartMs: discovery ? discovery.slowStartMs : 0,
        decayMs: options.balancer.decayMs,
        drainTimeoutMs: discovery ? discovery.drainTimeoutMs : options.timeoutMs,
      },
    );
    if (discovery) {
      this.resolver = new EndpointResolver(
        options.name,
        discovery,
        lookup ?? new DnsLookup(discovery.servers, discovery.lookupTimeoutMs),
        (targets, initial) => this.endpoints.apply(targets, !initial),
        metrics,
        logger,
      );
    } else {
      this.endpoints.apply(options.targets, false);
    }
    if (options.sizing) this.resizer = new Resizer(options.sizing, this.endpoints, metrics, logger);
  }

  /** Endpoint management for these options, or undefined for a static, fixed-size pool. */
  static create(
    options: ResolvedGrpcPoolOptions,
    hooks: DiscoveryPoolHooks,
    logger: Logger,
    lookup?: HostLookup,
  ): PoolDiscovery | undefined {
    if (!options.discovery && !options.sizing) return undefined;
    return new PoolDiscovery(options, hooks, logger, lookup);
  }

  /** Resolves once the first resolution found addresses (at once without discovery). */
  ready(): Promise<void> {
    return this.resolver?.first() ?? Promise.resolve();
  }

  /** Starts re-resolution and resizing. */
  start(): void {
    this.resolver?.start();
    this.resizer?.start();
  }

  /** A connection was ejected or failed: re-resolve soon (rate-limited). */
  connectionFailed(): void {
    this.resolver?.resolveSoon();
  }

  report(): { endpoints: GrpcPoolEndpointReport[]; draining: number } {
    return { endpoints: this.endpoints.report(), draining: this.endpoints.drainingCount };
  }

  close(): void {
    this.resolver?.stop();
    this.resizer?.stop();
    this.endpoints.close();
  }
}
