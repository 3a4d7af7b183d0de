import { Channel, connectivityState, type ChannelCredentials, type Client } from '@grpc/grpc-js';
import type { BreakerSettings } from '../options/grpc-pool.options';
import { ConnectionBreaker, type CircuitState, type EjectionReason } from './connection-breaker';
import { LatencyEwma } from '../stats/latency-ewma';
import type { ProtoService } from './proto-services';

/** Shared by a pool's connections: when any of them last got an answer (performance.now()). @internal */
export interface PoolProgress {
  lastAnswerAt: number;
}

/** What a connection reports to its pool. @internal */
export interface ConnectionEvents {
  onCircuitChange(
    connection: PoolConnection,
    state: CircuitState,
    reason: EjectionReason | undefined,
  ): void;
}

/**
 * One pooled HTTP/2 connection: its own grpc-js Channel (local subchannel pool, so never shared
 * with another channel), the service clients bound to it, its circuit breaker and its load (calls
 * outstanding, latency EWMA). Connectivity is watched: a channel that falls into
 * TRANSIENT_FAILURE is ejected before a call has to fail on it. @internal
 */
export class PoolConnection {
  readonly channel: Channel;
  readonly breaker: ConnectionBreaker;
  readonly latency: LatencyEwma;
  /** Calls in flight on this connection. */
  inFlight = 0;
  /** When an attempt on this connection last got an answer (performance.now()). */
  lastAnswerAt = -Infinity;
  /** Since when calls are outstanding without an answer (performance.now()); see {@link stalledMs}. */
  private progressAt = 0;
  private readonly clients = new Map<string, Client>();
  private closed = false;

  constructor(
    /** Position in the pool (a metric label; bounded by the pool size). */
    readonly index: number,
    readonly target: string,
    credentials: ChannelCredentials,
    channelOptions: Record<string, string | number>,
    private readonly services: Map<string, ProtoService>,
    breaker: BreakerSettings,
    decayMs: number,
    events: ConnectionEvents,
    private readonly progress: PoolProgress,
    /** When this connection is due for recycling (ms epoch), if `maxConnectionAgeMs` is set. */
    readonly recycleAt = Infinity,
  ) {
    this.channel = new Channel(target, credentials, channelOptions);
    this.latency = new LatencyEwma(decayMs);
    this.breaker = new ConnectionBreaker(breaker, (state, reason) =>
      events.onCircuitChange(this, state, reason),
    );
    this.watch(this.channel.getConnectivityState(false));
  }

  /** An attempt starts on this connection. */
  begin(now: number): void {
    if (this.inFlight++ === 0) this.progressAt = now;
  }

  /** An attempt on this connection got an answer. */
  answered(now: number, latencyMs: number): void {
    this.lastAnswerAt = now;
    this.progressAt = now;
    this.progress.lastAnswerAt = now;
    this.latency.observe(latencyMs, now);
    this.breaker.answered();
  }

  /**
   * How long other connections kept answering while calls were outstanding here without any
   * answer: a frozen backend's connection has no latency samples to show it, but this grows.
   * Relative to the pool's answers, so a pause of the whole process (GC, a busy event loop) does
   * not make every busy connection look stalled. 0 when nothing is in flight.
   */
  stalledMs(): number {
    return this.inFlight > 0 && this.progress.lastAnswerAt > this.progressAt
      ? this.progress.lastAnswerAt - this.progressAt
      : 0;
  }

  /** The grpc-js client of `service` bound to this connection's channel. */
  client(service: string): Client {
    let client = this.clients.get(service);
    if (client === undefined) {
      const definition = this.services.get(service);
      if (definition === undefined) throw new Error(`unknown service ${service}`);
      client = new definition.ctor(this.target, null as never, { channelOverride: this.channel });
      this.clients.set(service, client);
    }
    return client;
  }

  get connectivity(): connectivityState {
    return this.channel.getConnectivityState(false);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Starts connecting now instead of on the first call. */
  connect(): void {
    this.channel.getConnectivityState(true);
  }

  /** Closes the channel; calls in flight finish or fail on their own. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.channel.close();
  }

  private watch(current: connectivityState): void {
    if (this.closed || current === connectivityState.SHUTDOWN) return;
    // Re-armed on every change; the long deadline only bounds one wait, it is not a poll.
    this.channel.watchConnectivityState(current, Date.now() + 3_600_000, () => {
      if (this.closed) return;
      const next = this.channel.getConnectivityState(false);
      if (next === connectivityState.TRANSIENT_FAILURE) this.breaker.eject('connectivity');
      this.watch(next);
    });
  }
}
