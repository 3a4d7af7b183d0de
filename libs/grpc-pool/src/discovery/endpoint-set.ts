import { connectivityState } from '@grpc/grpc-js';
import type { Logger } from '@nestjs/common';
import type { PoolConnection } from '../connection/pool-connection';
import type { DiscoveryMetrics } from './discovery.metrics';
import { diffEndpoints } from './endpoint-diff';
import { targetAddress } from './endpoint-address';
import { startSlowly } from './slow-start';

/** The pool's connection list as the endpoint set changes it (the pool's ConnectionSet). @internal */
export interface ConnectionList {
  readonly all: readonly PoolConnection[];
  openTo(index: number, target: string): PoolConnection;
  add(connection: PoolConnection): void;
  remove(connection: PoolConnection): void;
}

/** What the endpoint set needs from its pool. @internal */
export interface EndpointHost {
  readonly connections: ConnectionList;
  /** One health check of a connection not yet in use (undefined: health checks are off). */
  readonly serving?: (connection: PoolConnection) => Promise<boolean>;
  /** Connections came or went (the pool updates its gauges). */
  changed(): void;
  readonly logger: Logger;
  readonly metrics: DiscoveryMetrics;
}

/** Endpoint settings. @internal */
export interface EndpointSettings {
  /** Connections opened per new address at first. */
  perAddress: number;
  warmupTimeoutMs: number;
  slowStartMs: number;
  decayMs: number;
  drainTimeoutMs: number;
}

/** One address of the pool, as `healthReport()` shows it. */
export interface GrpcPoolEndpointReport {
  /** `ip:port` (`[ip]:port` for IPv6), or the configured target. */
  address: string;
  /** `warming`: connecting (and health-checked) before its first call; `active`: picked by calls. */
  state: 'warming' | 'active';
  /** Connections in use. */
  connections: number;
}

const DRAIN_POLL_MS = 100;

/**
 * The pool's addresses and their connections: applies each resolution's diff — a new address is
 * connected, health-checked when checks are on, then made eligible with a slow start; a removed
 * one is taken out of the picker at once, its calls in flight finish (bounded by
 * `drainTimeoutMs`), then its connections close — and grows or drains one address's connections
 * for load-driven size. Connections are grouped by their target, read from the pool's list at
 * each decision (never per call), so recycling needs nothing from here. Connection indexes (a
 * metric label) are the lowest free ones, so they stay bounded by the connections open at once.
 * @internal
 */
export class EndpointSet {
  private readonly active = new Set<string>();
  private readonly warming = new Map<string, PoolConnection[]>();
  private readonly draining = new Map<PoolConnection, number>();
  private drainTimer?: NodeJS.Timeout;
  private closed = false;
  /** Connections per address now: a new address gets as many (load-driven size changes it). */
  perAddress: number;

  constructor(
    private readonly host: EndpointHost,
    private readonly settings: EndpointSettings,
  ) {
    this.perAddress = settings.perAddress;
  }

  /** Targets currently in use. */
  targets(): string[] {
    return [...this.active];
  }

  /**
   * Applies the targets of a (non-empty) resolution. `warm`: new targets warm up before their
   * first call (false at bootstrap, when there is nothing to protect them from).
   */
  apply(next: readonly string[], warm: boolean): void {
    if (this.closed) return;
    const { added, removed } = diffEndpoints([...this.active, ...this.warming.keys()], next);
    for (const target of removed) this.removeTarget(target);
    for (const target of added) {
      if (warm) void this.warmUp(target);
      else this.activate(target, this.openAll(target, this.perAddress), false);
    }
    if (added.length > 0 || removed.length > 0) {
      const shown = (list: string[]) => list.map((t) => targetAddress(t) ?? t).join(', ');
      this.host.logger.log(
        `endpoints: ${this.active.size + this.warming.size}` +
          (added.length ? `; added ${shown(added)}` : '') +
          (removed.length ? `; removed ${shown(removed)} (draining)` : ''),
      );
      this.changed();
    }
  }

  /** The connections in use to `target`. */
  connectionsOf(target: string): PoolConnection[] {
    return this.host.connections.all.filter((c) => c.target === target);
  }

  /** Opens `n` more connections to an active target; they take calls at once. */
  grow(target: string, n: number): void {
    if (this.closed || !this.active.has(target)) return;
    for (const c of this.openAll(target, n)) {
      c.connect();
      this.host.connections.add(c);
    }
    this.changed();
  }

  /** Drains the `n` least busy connections of `target` (never below one). */
  shrink(target: string, n: number): void {
    const own = this.connectionsOf(target).sort((a, b) => a.inFlight - b.inFlight);
    for (const c of own.slice(0, Math.min(n, own.length - 1))) this.drain(c);
    this.changed();
  }

  report(): GrpcPoolEndpointReport[] {
    const all = this.host.connections.all;
    const count = (t: string) => all.reduce((n, c) => (c.target === t ? n + 1 : n), 0);
    return [
      ...[...this.active].map((t) => ({
        address: targetAddress(t) ?? t,
        state: 'active' as const,
        connections: count(t),
      })),
      ...[...this.warming.keys()].map((t) => ({
        address: targetAddress(t) ?? t,
        state: 'warming' as const,
        connections: 0,
      })),
    ];
  }

  /** Connections draining (taken out of the picker, calls still in flight). */
  get drainingCount(): number {
    return this.draining.size;
  }

  /** Closes the connections warming up or draining (the pool closes the others). */
  close(): void {
    this.closed = true;
    clearInterval(this.drainTimer);
    for (const c of this.draining.keys()) c.close();
    this.draining.clear();
    for (const list of this.warming.values()) for (const c of list) c.close();
    this.warming.clear();
  }

  private openAll(target: string, n: number): PoolConnection[] {
    const used = new Set<number>();
    for (const c of this.host.connections.all) used.add(c.index);
    for (const c of this.draining.keys()) used.add(c.index);
    for (const list of this.warming.values()) for (const c of list) used.add(c.index);
    const opened: PoolConnection[] = [];
    for (let index = 0; opened.length < n; index++) {
      if (used.has(index)) continue;
      used.add(index);
      opened.push(this.host.connections.openTo(index, target));
    }
    return opened;
  }

  private activate(target: string, fresh: PoolConnection[], slowStart: boolean): void {
    if (slowStart)
      startSlowly(
        fresh,
        this.host.connections.all,
        this.settings.slowStartMs,
        this.settings.decayMs,
      );
    for (const c of fresh) this.host.connections.add(c);
    this.active.add(target);
  }

  private async warmUp(target: string): Promise<void> {
    const fresh = this.openAll(target, this.perAddress);
    this.warming.set(target, fresh);
    for (const c of fresh) c.connect();
    const deadline = Date.now() + this.settings.warmupTimeoutMs;
    let ok = (await Promise.all(fresh.map((c) => whenReady(c, deadline)))).every(Boolean);
    if (ok && this.host.serving !== undefined)
      ok = (await Promise.all(fresh.map((c) => this.host.serving!(c)))).every(Boolean);
    if (this.warming.get(target) !== fresh) return; // removed meanwhile (and closed)
    this.warming.delete(target);
    if (this.closed) return;
    if (!ok) {
      for (const c of fresh) c.close();
      this.host.logger.warn(
        `endpoint ${targetAddress(target) ?? target} not ready within ${this.settings.warmupTimeoutMs} ms; retried at the next resolution`,
      );
      this.changed();
      return;
    }
    this.activate(target, fresh, true);
    this.changed();
  }

  private removeTarget(target: string): void {
    const warming = this.warming.get(target);
    if (warming !== undefined) {
      this.warming.delete(target);
      for (const c of warming) c.close();
      return;
    }
    this.active.delete(target);
    for (const c of this.connectionsOf(target)) this.drain(c);
  }

  private drain(c: PoolConnection): void {
    this.host.connections.remove(c);
    this.draining.set(c, Date.now() + this.settings.drainTimeoutMs);
    if (this.drainTimer !== undefined) return;
    this.drainTimer = setInterval(() => this.pollDrains(), DRAIN_POLL_MS);
    this.drainTimer.unref();
  }

  private pollDrains(): void {
    const now = Date.now();
    const before = this.draining.size;
    for (const [c, until] of this.draining) {
      if (c.inFlight > 0 && now < until) continue;
      this.draining.delete(c);
      c.close();
      if (!this.host.connections.all.some((o) => o.index === c.index))
        this.host.metrics.forget(c.index);
    }
    if (this.draining.size === 0) {
      clearInterval(this.drainTimer);
      this.drainTimer = undefined;
    }
    if (this.draining.size !== before) this.changed();
  }

  private changed(): void {
    if (this.closed) return;
    this.host.metrics.counts(
      this.active.size,
      this.host.connections.all.length,
      this.draining.size,
    );
    this.host.changed();
  }
}

/** Resolves true once `c` is READY, false at `deadline` or when it closes. */
function whenReady(c: PoolConnection, deadline: number): Promise<boolean> {
  return new Promise((resolve) => {
    const check = (): void => {
      const state = c.channel.getConnectivityState(true);
      if (state === connectivityState.READY) return resolve(true);
      if (c.isClosed || state === connectivityState.SHUTDOWN || Date.now() >= deadline)
        return resolve(false);
      c.channel.watchConnectivityState(state, deadline, check);
    };
    check();
  });
}
