import { Logger } from '@nestjs/common';
import { ExponentialBackoff } from 'cockatiel';
import { defer } from 'rxjs';
import { GrpcPoolServiceNotFoundError } from '../errors/grpc-pool.errors';
import type { GrpcPoolMetrics } from '../metrics/grpc-pool.metrics';
import type { ResolvedGrpcPoolOptions } from '../options/grpc-pool.options';
import type { PooledCallOptions, PooledMethodPolicy } from '../options/grpc-pool-options.interface';
import type { CircuitState, EjectionReason } from '../connection/connection-breaker';
import { ConnectionRecycler } from '../connection/connection-recycler';
import { ConnectionSet } from '../connection/connection-set';
import { HealthChecker } from '../connection/health-checker';
import { currentMethodPolicy } from '../call/method-policy';
import { RAW_INVOKER, unaryInvoker, type PooledAttempt } from '../call/attempt-invokers';
import { allDownError } from '../call/call-errors';
import { callDeadline, MethodSettings } from '../call/call-settings';
import { PeakEwmaPicker } from '../balancing/peak-ewma.picker';
import type { Picker } from '../balancing/picker';
import { RoundRobinPicker } from '../balancing/round-robin.picker';
import type { PoolConnection } from '../connection/pool-connection';
import { PoolMetrics } from '../metrics/pool-metrics';
import { PooledCall, type PoolCore } from '../call/pooled-call';
import { loadProtoServices, type ProtoService } from '../connection/proto-services';
import { RetryBudget } from '../call/retry-budget';
import { targetAddress } from '../discovery/endpoint-address';
import type { GrpcPoolEndpointReport } from '../discovery/endpoint-set';
import { PoolDiscovery } from '../discovery/pool-discovery';
import { createServiceClient } from './service-client';
import { startStream, type StreamKind } from '../call/stream-call';

export type { PooledAttempt } from '../call/attempt-invokers';

/** Health of a pool, for probes and terminus. */
export interface GrpcPoolHealth {
  name: string;
  /** Connections whose circuit is closed. */
  healthy: number;
  size: number;
  connections: {
    index: number;
    target: string;
    /** The address dialled (`ip:port`); null when grpc-js resolves the target itself. */
    address: string | null;
    circuit: CircuitState;
    connectivity: string;
  }[];
  /** With discovery or load-driven size: each address and its connections. */
  endpoints?: GrpcPoolEndpointReport[];
  /** Connections draining (a removed address, a shrink): no new calls, finishing their calls. */
  draining?: number;
}

/** A unary method of a pooled service client: returns a Promise. */
export type PooledUnary<Req = unknown, Res = unknown> = (
  request: Req,
  options?: PooledCallOptions,
) => Promise<Res>;

const CONNECTIVITY = ['IDLE', 'CONNECTING', 'READY', 'TRANSIENT_FAILURE', 'SHUTDOWN'];

/**
 * A pool of really distinct gRPC connections to one service (or several targets): each attempt
 * goes to the healthy connection with the least latency x outstanding calls, or round-robin; failover of a failed attempt to another connection, bounded retries with
 * jittered exponential backoff inside the caller's deadline and a retry budget, optional hedging,
 * per-connection outlier ejection (UNAVAILABLE, timeouts, failure rate, health checks) with
 * probes deciding recovery, keepalive, and connection recycling.
 */
export class GrpcPool implements PoolCore {
  /** Name of the pool (injection token and metric label). */
  readonly name: string;
  /** @internal */
  readonly picker: Picker;
  /** @internal */
  readonly budget?: RetryBudget;
  /** @internal */
  readonly backoff: ExponentialBackoff<unknown>;
  /** @internal */
  readonly metrics: PoolMetrics;
  private readonly logger: Logger;
  private readonly services: Map<string, ProtoService>;
  private readonly set: ConnectionSet;
  private readonly health: HealthChecker;
  private readonly recycler?: ConnectionRecycler;
  private readonly discovery?: PoolDiscovery;
  private readonly clientCache = new Map<string, object>();
  /** callWithRetry's settings per `method` option (no hedging: its attempts cannot be cancelled). */
  private readonly rawSettings = new Map<string, MethodSettings>();
  private closed = false;

  constructor(
    /** @internal */
    readonly options: ResolvedGrpcPoolOptions,
    metrics: GrpcPoolMetrics,
  ) {
    this.name = options.name;
    this.logger = new Logger(`GrpcPool:${options.name}`);
    this.metrics = new PoolMetrics(metrics, options.name);
    this.services = loadProtoServices(options);
    const { budget, initialBackoffMs, maxBackoffMs } = options.retry;
    if (budget) this.budget = new RetryBudget(budget.ratio, budget.minPerSecond, budget.windowMs);
    this.backoff = new ExponentialBackoff({
      initialDelay: initialBackoffMs,
      maxDelay: maxBackoffMs,
    });
    this.picker =
      options.balancer.policy === 'round-robin'
        ? new RoundRobinPicker()
        : new PeakEwmaPicker(
            Math.random,
            options.sizing ? options.sizing.maxConcurrentStreams : undefined,
          );
    this.set = new ConnectionSet(options, this.services, {
      onCircuitChange: (c, state, reason) => this.circuitChanged(c, state, reason),
    });
    this.health = new HealthChecker(
      () => this.set.all,
      {
        periodic: options.healthCheck,
        probeTimeoutMs: options.healthCheck ? options.healthCheck.timeoutMs : 1_000,
      },
      this.logger,
    );
    this.discovery = PoolDiscovery.create(
      options,
      {
        connections: this.set,
        serving: (c) => this.health.serving(c),
        changed: () => this.updateGauges(),
      },
      this.logger,
    );
    if (options.maxConnectionAgeMs) {
      this.recycler = new ConnectionRecycler(this.set, options.maxConnectionAgeMs, () =>
        this.updateGauges(),
      );
    }
    this.updateGauges();
  }

  /** Number of connections. */
  get size(): number {
    return this.set.all.length;
  }

  /** The current connections. @internal */
  connections(): readonly PoolConnection[] {
    return this.set.all;
  }

  /** Starts every connection now (otherwise each connects on its first call). */
  connect(): void {
    for (const c of this.set.all) c.connect();
    this.health.start();
    this.discovery?.start();
  }

  /**
   * Resolves once the pool has addresses: at once for static targets; with discovery, after the
   * first resolution that found some (rejects with {@link GrpcPoolDiscoveryError} after
   * `discovery.startupTimeoutMs`). The module awaits it at bootstrap.
   */
  ready(): Promise<void> {
    return this.discovery?.ready() ?? Promise.resolve();
  }

  /** State of each connection. */
  healthReport(): GrpcPoolHealth {
    const all = this.set.all;
    return {
      name: this.name,
      size: all.length,
      healthy: all.filter((c) => c.breaker.closed).length,
      connections: all.map((c) => ({
        index: c.index,
        target: c.target,
        address: targetAddress(c.target),
        circuit: c.breaker.current,
        connectivity: CONNECTIVITY[c.connectivity],
      })),
      ...this.discovery?.report(),
    };
  }

  /**
   * A client of `service` whose unary methods go through the pool (balancing, failover, retry,
   * hedging) and return Promises. Streaming methods are passed to one healthy connection, without
   * retries. Calling a method the service lacks rejects with {@link GrpcPoolMethodNotFoundError}.
   *
   * @example
   * const users = pool.getService<UsersClient>('UserService');
   * const user = await users.getUser({ id: '42' }, { deadline: 200 });
   */
  getService<T extends object>(service: string): T {
    return this.serviceClient<T>(service, 'promise');
  }

  /** Like {@link getService}, with Observable-returning methods, as Nest's `ClientGrpc.getService`. */
  getObservableService<T extends object>(service: string): T {
    return this.serviceClient<T>(service, 'observable');
  }

  /**
   * Runs `fn` against a connection, retrying retryable failures on other connections, within the
   * deadline and the retry budget (no hedging: `fn` cannot be cancelled).
   *
   * @example
   * await pool.callWithRetry(({ client, deadline }) => callUsers(client('UserService'), deadline));
   */
  callWithRetry<T>(
    fn: (attempt: PooledAttempt) => Promise<T>,
    options: PooledCallOptions & { method?: string } = {},
  ): Promise<T> {
    const method = options.method ?? 'callWithRetry';
    let settings = this.rawSettings.get(method);
    if (settings === undefined) {
      settings = new MethodSettings(
        this.options,
        'raw',
        method,
        this.metrics.method('raw', method),
        false,
      );
      this.rawSettings.set(method, settings);
    }
    return new PooledCall<T>(
      this,
      RAW_INVOKER,
      settings.get(currentMethodPolicy(this.name)),
      fn,
      options,
    ).run();
  }

  /** Closes every channel and stops the pool's timers. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.recycler?.stop();
    this.discovery?.close();
    this.health.stop();
    this.set.closeAll();
    this.metrics.closed();
  }

  /** A pooled method of `service` (used by the service clients). @internal */
  method(
    service: ProtoService,
    method: string,
    kind: StreamKind,
    mode: 'promise' | 'observable',
  ): (request: unknown, options?: PooledCallOptions) => unknown {
    if (kind.requestStream || kind.responseStream) {
      return (requestOrWriter, callOptions = {}) =>
        this.stream(service.name, method, kind, requestOrWriter, callOptions, mode);
    }
    const invoker = unaryInvoker(service.name, method);
    const settings = new MethodSettings(
      this.options,
      service.name,
      method,
      this.metrics.method(service.name, method),
    );
    const unary = (
      request: unknown,
      callOptions: PooledCallOptions | undefined,
      policy: PooledMethodPolicy | undefined,
    ) => new PooledCall(this, invoker, settings.get(policy), request, callOptions).run();
    if (mode === 'promise')
      return (request, callOptions) => unary(request, callOptions, currentMethodPolicy(this.name));
    return (request, callOptions) => {
      const policy = currentMethodPolicy(this.name); // read now: the Observable may run later
      return defer(() => unary(request, callOptions, policy));
    };
  }

  private serviceClient<T extends object>(service: string, mode: 'promise' | 'observable'): T {
    const cacheKey = `${mode}:${service}`;
    const cached = this.clientCache.get(cacheKey);
    if (cached) return cached as T;
    const definition = this.services.get(service);
    if (!definition) {
      throw new GrpcPoolServiceNotFoundError(this.name, service, [
        ...new Set([...this.services.values()].map((s) => s.name)),
      ]);
    }
    const client = createServiceClient<T>(this, definition, mode);
    this.clientCache.set(cacheKey, client);
    return client;
  }

  /** Streaming: one healthy connection, no retries (a stream may have been partly consumed). */
  private stream(
    service: string,
    method: string,
    kind: StreamKind,
    requestOrWriter: unknown,
    options: PooledCallOptions,
    mode: 'promise' | 'observable',
  ): unknown {
    const connection = this.picker.pick(this.set.all, undefined, true);
    if (!connection) throw allDownError(this.name, this.size, this.options.breaker.ejectionMs, 0);
    return startStream(
      connection,
      service,
      method,
      kind,
      requestOrWriter,
      options,
      callDeadline(options, this.options.timeoutMs),
      mode,
    );
  }

  private circuitChanged(
    connection: PoolConnection,
    state: CircuitState,
    reason: EjectionReason | undefined,
  ): void {
    if (state === 'open') {
      if (reason !== undefined) {
        this.metrics.ejection(reason);
        this.logger.warn(
          `connection ${connection.index} (${connection.target}) ejected: ${reason}`,
        );
      }
      this.health.scheduleProbe(connection);
      this.discovery?.connectionFailed();
    }
    if (state === 'closed')
      this.logger.log(`connection ${connection.index} (${connection.target}) recovered`);
    this.updateGauges();
  }

  private updateGauges(): void {
    if (this.closed) return;
    const all = this.set.all;
    this.metrics.circuits(
      all.map((c) => ({ index: c.index, state: c.breaker.current })),
      all.filter((c) => c.breaker.closed).length,
    );
  }
}
