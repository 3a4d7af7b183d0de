import { credentials as grpcCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import type { ResolvedGrpcPoolOptions } from '../options/grpc-pool.options';
import type {
  ConnectionEvents,
  PoolConnection as PoolConnectionType,
  PoolProgress,
} from './pool-connection';
import { PoolConnection } from './pool-connection';
import type { ProtoService } from './proto-services';
import { discoveredChannelOptions } from './discovered-channel-options';

/**
 * The pool's current connections: `size` per target. Recycling swaps one for a fresh one in
 * place; everything that iterates the connections (picker, health checks, reports) reads
 * {@link all} at that moment, so nothing holds a stale copy. @internal
 */
export class ConnectionSet {
  private connections: PoolConnectionType[] = [];
  private readonly credentials: ChannelCredentials;
  private readonly channelOptions: Record<string, string | number>;
  private readonly progress: PoolProgress = { lastAnswerAt: 0 };

  constructor(
    private readonly options: ResolvedGrpcPoolOptions,
    private readonly services: Map<string, ProtoService>,
    private readonly events: ConnectionEvents,
  ) {
    this.credentials = options.tls
      ? grpcCredentials.createSsl(
          options.tls.ca ?? null,
          options.tls.key ?? null,
          options.tls.cert ?? null,
        )
      : grpcCredentials.createInsecure();
    this.channelOptions = options.tls?.serverName
      ? { ...options.channelOptions, 'grpc.ssl_target_name_override': options.tls.serverName }
      : options.channelOptions;
    if (options.discovery)
      this.channelOptions = discoveredChannelOptions(options, this.channelOptions);
    // Discovery and load-driven size open their connections themselves (discovery/endpoint-set.ts).
    if (options.discovery || options.sizing) return;
    for (let i = 0; i < options.size * options.targets.length; i++)
      this.connections.push(this.open(i));
  }

  /** The current connections (a new array after each replacement; never mutated in place). */
  get all(): readonly PoolConnectionType[] {
    return this.connections;
  }

  /** Replaces `old` by a fresh connection to the same target, connecting at once. */
  replace(old: PoolConnectionType): PoolConnectionType {
    const fresh = this.open(old.index, old.target);
    fresh.connect();
    this.connections = this.connections.map((c) => (c === old ? fresh : c));
    return fresh;
  }

  closeAll(): void {
    for (const c of this.connections) c.close();
  }

  /** A new connection to `target` (an address found by discovery), not yet in {@link all}. */
  openTo(index: number, target: string): PoolConnectionType {
    return this.open(index, target);
  }

  /** Makes `connection` eligible: calls may pick it from now on. */
  add(connection: PoolConnectionType): void {
    this.connections = [...this.connections, connection];
  }

  /** Takes `connection` out: no new call picks it (the caller drains and closes it). */
  remove(connection: PoolConnectionType): void {
    this.connections = this.connections.filter((c) => c !== connection);
  }

  private open(
    index: number,
    target = this.options.targets[index % this.options.targets.length],
  ): PoolConnectionType {
    const { maxConnectionAgeMs: age, breaker, balancer } = this.options;
    return new PoolConnection(
      index,
      target,
      this.credentials,
      this.channelOptions,
      this.services,
      breaker,
      balancer.decayMs,
      this.events,
      this.progress,
      age ? Date.now() + age * (0.9 + Math.random() * 0.2) : Infinity,
    );
  }
}
