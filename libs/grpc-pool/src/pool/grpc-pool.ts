import {
  credentials as grpcCredentials,
  Metadata,
  status,
  type ChannelCredentials,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { Logger } from '@nestjs/common';
import { ExponentialBackoff, type IBackoff } from 'cockatiel';
import { defer, Observable } from 'rxjs';
import {
  GrpcPoolCallError,
  GrpcPoolMethodNotFoundError,
  GrpcPoolServiceNotFoundError,
} from '../errors/grpc-pool.errors';
import type { GrpcPoolMetrics } from '../grpc-pool.metrics';
import type { ResolvedGrpcPoolOptions } from '../grpc-pool.options';
import type {
  PooledCallOptions,
  PooledMethodPolicy,
} from '../interfaces/grpc-pool-options.interface';
import { currentMethodPolicy } from './method-policy';
import { HealthChecker } from './health-checker';
import { PoolConnection } from './pool-connection';
import type { CircuitState } from './connection-breaker';
import { loadProtoServices, type ProtoService } from './proto-services';
import { RetryBudget } from './retry-budget';

/** What `callWithRetry` hands to the caller's function for one attempt. */
export interface PooledAttempt {
  /** The connection's grpc-js channel. */
  readonly channel: PoolConnection['channel'];
  /** A grpc-js client of `service` bound to this connection. */
  client<C = unknown>(service: string): C;
  /** Deadline of this attempt. */
  readonly deadline: Date;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Position of the connection in the pool. */
  readonly connection: number;
}

/** Health of a pool, for probes and terminus. */
export interface GrpcPoolHealth {
  name: string;
  /** Connections whose circuit is closed. */
  healthy: number;
  size: number;
  connections: { index: number; target: string; circuit: CircuitState; connectivity: string }[];
}

/** A unary method of a pooled service client: returns a Promise. */
export type PooledUnary<Req = unknown, Res = unknown> = (
  request: Req,
  options?: PooledCallOptions,
) => Promise<Res>;

/** Connection-level failures: they count against a connection's circuit breaker. */
const CONNECTION_FAILURES = new Set<status>([status.UNAVAILABLE]);

/**
 * A pool of really distinct gRPC connections to one service (or several targets): round-robin over
 * healthy connections, failover of a failed attempt to another connection, bounded retries with
 * jittered exponential backoff inside the caller's deadline and a retry budget, per-connection
 * circuit breakers, optional active health checks and connection recycling.
 */
export class GrpcPool {
  readonly name: string;
  private readonly logger: Logger;
  private connections: PoolConnection[] = [];
  private readonly services: Map<string, ProtoService>;
  private readonly credentials: ChannelCredentials;
  private readonly budget?: RetryBudget;
  private readonly backoff: ExponentialBackoff<unknown>;
  private readonly health?: HealthChecker;
  private readonly clientCache = new Map<string, object>();
  private recycleTimer?: NodeJS.Timeout;
  private cursor = 0;
  private closed = false;

  constructor(
    private readonly options: ResolvedGrpcPoolOptions,
    private readonly metrics: GrpcPoolMetrics,
  ) {
    this.name = options.name;
    this.logger = new Logger(`GrpcPool:${options.name}`);
    this.services = loadProtoServices(options);
    this.credentials = options.tls
      ? grpcCredentials.createSsl(
          options.tls.ca ?? null,
          options.tls.key ?? null,
          options.tls.cert ?? null,
        )
      : grpcCredentials.createInsecure();
    const { budget, initialBackoffMs, maxBackoffMs } = options.retry;
    if (budget) this.budget = new RetryBudget(budget.ratio, budget.minPerSecond, budget.windowMs);
    this.backoff = new ExponentialBackoff({
      initialDelay: initialBackoffMs,
      maxDelay: maxBackoffMs,
    });
    for (let i = 0; i < options.size * options.targets.length; i++)
      this.connections.push(this.open(i));
    if (options.healthCheck)
      this.health = new HealthChecker(this.connections, options.healthCheck, this.logger);
    if (options.maxConnectionAgeMs) {
      this.recycleTimer = setInterval(
        () => this.recycle(),
        Math.min(options.maxConnectionAgeMs / 4, 5_000),
      );
      this.recycleTimer.unref();
    }
    this.updateGauges();
  }

  /** Number of connections. */
  get size(): number {
    return this.connections.length;
  }

  /** Starts every connection now (otherwise each connects on its first call). */
  connect(): void {
    for (const c of this.connections) c.connect();
    this.health?.start();
  }

  /** State of each connection. */
  healthReport(): GrpcPoolHealth {
    return {
      name: this.name,
      size: this.connections.length,
      healthy: this.connections.filter((c) => c.breaker.current === 'closed').length,
      connections: this.connections.map((c) => ({
        index: c.index,
        target: c.target,
        circuit: c.breaker.current,
        connectivity: ['IDLE', 'CONNECTING', 'READY', 'TRANSIENT_FAILURE', 'SHUTDOWN'][
          c.connectivity
        ],
      })),
    };
  }

  /**
   * A client of `service` whose unary methods go through the pool (rotation, failover, retry) and
   * return Promises. Streaming methods are passed to one healthy connection, without retries.
   * Calling a method the service lacks rejects with {@link GrpcPoolMethodNotFoundError}.
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
   * The seed's `call_with_retry`: runs `fn` against a connection, retrying retryable failures on
   * other connections, within the deadline and the retry budget.
   */
  callWithRetry<T>(
    fn: (attempt: PooledAttempt) => Promise<T>,
    options: PooledCallOptions & { method?: string } = {},
  ): Promise<T> {
    return this.execute(
      'raw',
      options.method ?? 'callWithRetry',
      fn,
      options,
      currentMethodPolicy(this.name),
    );
  }

  /** Closes every channel and stops the pool's timers. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.recycleTimer);
    this.health?.stop();
    for (const c of this.connections) c.close();
    this.metrics.healthyConnections.set({ pool: this.name }, 0);
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
    const methods = new Map<string, (request: unknown, options?: PooledCallOptions) => unknown>();
    for (const [methodName, method] of definition.methods) {
      let call: (request: unknown, options?: PooledCallOptions) => unknown;
      if (!method.requestStream && !method.responseStream) {
        call = (request, callOptions = {}) => {
          const policy = currentMethodPolicy(this.name); // read now: an Observable may run later
          const run = () =>
            this.execute(
              definition.name,
              methodName,
              (attempt) => this.unary(attempt, definition.name, methodName, request, callOptions),
              callOptions,
              policy,
            );
          return mode === 'promise' ? run() : defer(run);
        };
      } else {
        call = (requestOrMetadata, callOptions = {}) =>
          this.stream(definition.name, methodName, method, requestOrMetadata, callOptions, mode);
      }
      methods.set(methodName, call);
    }
    const client = new Proxy(
      {},
      {
        get: (_target, property) => {
          if (typeof property !== 'string' || property === 'then') return undefined;
          return (
            methods.get(property) ??
            (() => {
              const error = new GrpcPoolMethodNotFoundError(this.name, definition.name, property);
              if (mode === 'observable') return new Observable((s) => s.error(error));
              return Promise.reject(error);
            })
          );
        },
        has: (_target, property) => typeof property === 'string' && methods.has(property),
        ownKeys: () => [...methods.keys()],
        getOwnPropertyDescriptor: (_target, property) =>
          typeof property === 'string' && methods.has(property)
            ? { enumerable: true, configurable: true, value: methods.get(property) }
            : undefined,
      },
    ) as T;
    this.clientCache.set(cacheKey, client);
    return client;
  }

  private unary(
    attempt: PooledAttempt,
    service: string,
    method: string,
    request: unknown,
    options: PooledCallOptions,
  ): Promise<unknown> {
    const client = attempt.client<Record<string, Function>>(service);
    return new Promise((resolve, reject) => {
      client[method].call(
        client,
        request,
        options.metadata ?? new Metadata(),
        { deadline: attempt.deadline },
        (error: ServiceError | null, response: unknown) =>
          error ? reject(error) : resolve(response),
      );
    });
  }

  /** Streaming: one healthy connection, no retries (a stream may have been partly consumed). */
  private stream(
    service: string,
    method: string,
    kind: { requestStream: boolean; responseStream: boolean },
    requestOrMetadata: unknown,
    options: PooledCallOptions,
    mode: 'promise' | 'observable',
  ): unknown {
    // Only closed circuits: a stream's outcome does not feed the breaker, so it must not be a probe.
    const connection = this.pick(new Set(), false);
    if (!connection) throw this.allDown(1);
    const client = connection.client(service) as unknown as Record<string, Function>;
    const deadline = toDeadline(options.deadline, this.options.timeoutMs);
    const callOptions = { deadline };
    if (kind.requestStream) {
      // client or bidi streaming: the caller writes to the returned call
      return kind.responseStream
        ? client[method].call(client, options.metadata ?? new Metadata(), callOptions)
        : new Promise((resolve, reject) => {
            const call = client[method].call(
              client,
              options.metadata ?? new Metadata(),
              callOptions,
              (e: ServiceError | null, r: unknown) => (e ? reject(e) : resolve(r)),
            );
            (requestOrMetadata as ((call: unknown) => void) | undefined)?.(call);
          });
    }
    const call = client[method].call(
      client,
      requestOrMetadata,
      options.metadata ?? new Metadata(),
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

  private async execute<T>(
    service: string,
    method: string,
    fn: (attempt: PooledAttempt) => Promise<T>,
    options: PooledCallOptions,
    policy: PooledMethodPolicy | undefined,
  ): Promise<T> {
    const started = performance.now();
    const labels = { pool: this.name, service, method };
    const retry = this.options.retry;
    const maxAttempts = policy?.maxAttempts ?? retry.maxAttempts;
    const idempotent = options.idempotent ?? policy?.idempotent ?? false;
    const deadline = toDeadline(options.deadline, policy?.timeoutMs ?? this.options.timeoutMs);
    const attemptTimeoutMs = policy?.attemptTimeoutMs ?? retry.attemptTimeoutMs;
    const tried = new Set<PoolConnection>();
    let backoff: IBackoff<unknown> | undefined;
    let lastError: unknown;
    let previous: PoolConnection | undefined;
    this.budget?.recordRequest();
    for (let attempt = 1; ; attempt++) {
      const connection = this.pick(tried);
      if (!connection) {
        lastError = lastError ?? this.allDown(attempt - 1);
        break;
      }
      if (previous !== undefined && connection !== previous)
        this.metrics.connectionSwitched.inc({ pool: this.name });
      previous = connection;
      tried.add(connection);
      const attemptDeadline = attemptTimeoutMs
        ? new Date(Math.min(deadline.getTime(), Date.now() + attemptTimeoutMs))
        : deadline;
      connection.inFlight++;
      try {
        const result = await fn({
          channel: connection.channel,
          client: <C>(name: string) => connection.client(name) as C,
          deadline: attemptDeadline,
          attempt,
          connection: connection.index,
        });
        connection.breaker.success();
        this.observe(labels, 'OK', started);
        return result;
      } catch (error) {
        lastError = error;
        const code = codeOf(error);
        if (CONNECTION_FAILURES.has(code)) {
          if (connection.breaker.failure()) this.metrics.ejections.inc({ pool: this.name });
        } else {
          connection.breaker.success(); // the server answered: the connection works
        }
        const retryable =
          retry.retryOn.has(code) || (idempotent && retry.idempotentRetryOn.has(code));
        if (!retryable || attempt >= maxAttempts) break;
        backoff = backoff ? backoff.next(undefined) : this.backoff.next();
        if (Date.now() + backoff.duration >= deadline.getTime()) break; // no time left for another attempt
        if (this.budget && !this.budget.tryAcquireRetry()) {
          this.metrics.budgetExhausted.inc({ pool: this.name });
          break;
        }
        this.metrics.fallbackRetry.inc(labels);
        if (backoff.duration > 0) await sleep(backoff.duration);
      } finally {
        connection.inFlight--;
      }
    }
    this.observe(labels, status[codeOf(lastError)] ?? 'UNKNOWN', started);
    throw lastError;
  }

  /**
   * Round-robin over connections whose circuit lets a call through, preferring ones this call has
   * not tried; a lone healthy connection is reused for a retry. Null when every circuit is open.
   */
  private pick(tried: Set<PoolConnection>, allowProbe = true): PoolConnection | undefined {
    const connections = this.connections;
    const n = connections.length;
    const start = this.cursor++ % n;
    if (this.cursor >= 0x3fffffff) this.cursor = 0;
    let fallback: PoolConnection | undefined;
    for (let i = 0; i < n; i++) {
      const c = connections[(start + i) % n];
      if (!(allowProbe ? c.breaker.available : c.breaker.current === 'closed')) continue;
      if (!tried.has(c)) return c.breaker.tryAcquire() ? c : undefined;
      fallback ??= c;
    }
    return fallback && fallback.breaker.tryAcquire() ? fallback : undefined;
  }

  private allDown(attempts: number): GrpcPoolCallError {
    return new GrpcPoolCallError(
      status.UNAVAILABLE,
      `grpc-pool "${this.name}": all ${this.connections.length} connections are down (circuits open); failing fast, next probe within ${this.options.breaker.ejectionMs} ms`,
      attempts,
    );
  }

  private observe(
    labels: { pool: string; service: string; method: string },
    code: string,
    started: number,
  ): void {
    this.metrics.requests.inc({ ...labels, code });
    this.metrics.duration.observe(labels, (performance.now() - started) / 1000);
  }

  private open(index: number, recycled = false): PoolConnection {
    const target = this.options.targets[index % this.options.targets.length];
    const age = this.options.maxConnectionAgeMs;
    const recycleAt = age ? Date.now() + age * (0.9 + Math.random() * 0.2) : Infinity;
    const connection = new PoolConnection(
      index,
      target,
      this.credentials,
      this.options.tls?.serverName
        ? {
            ...this.options.channelOptions,
            'grpc.ssl_target_name_override': this.options.tls.serverName,
          }
        : this.options.channelOptions,
      this.services,
      this.options.breaker,
      { onCircuitChange: (c, state) => this.circuitChanged(c, state) },
      recycleAt,
    );
    if (recycled) connection.connect();
    return connection;
  }

  private circuitChanged(connection: PoolConnection, state: CircuitState): void {
    if (state === 'open')
      this.logger.warn(`connection ${connection.index} (${connection.target}) ejected`);
    if (state === 'closed')
      this.logger.log(`connection ${connection.index} (${connection.target}) recovered`);
    this.updateGauges();
  }

  private updateGauges(): void {
    if (this.closed) return;
    let healthy = 0;
    for (const c of this.connections) {
      if (c.breaker.current === 'closed') healthy++;
      this.metrics.circuitState.set(
        { pool: this.name, connection: String(c.index) },
        c.breaker.current === 'closed' ? 0 : c.breaker.current === 'half-open' ? 1 : 2,
      );
    }
    this.metrics.healthyConnections.set({ pool: this.name }, healthy);
  }

  /** Replaces connections past their age (one per tick, so capacity never drops by more than one). */
  private recycle(): void {
    const now = Date.now();
    const due = this.connections.find((c) => c.recycleAt <= now);
    if (!due || this.closed) return;
    const fresh = this.open(due.index, true);
    this.connections = this.connections.map((c) => (c === due ? fresh : c));
    this.health?.replace(due, fresh);
    // Calls in flight on the old channel complete; new calls go to the fresh one.
    const drain = setInterval(() => {
      if (due.inFlight === 0) {
        clearInterval(drain);
        due.close();
      }
    }, 100);
    drain.unref();
    this.updateGauges();
  }
}

function codeOf(error: unknown): status {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : status.UNKNOWN;
}

function toDeadline(deadline: number | Date | undefined, fallbackMs: number): Date {
  if (deadline instanceof Date) return deadline;
  return new Date(Date.now() + (deadline ?? fallbackMs));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
