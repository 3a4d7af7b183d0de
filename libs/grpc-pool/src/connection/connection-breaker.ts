import type { BreakerSettings } from '../options/grpc-pool.options';
import { FailureWindow } from './failure-window';

/** Circuit state of one connection. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * Why a connection was ejected: the `reason` label of `grpc_pool_ejections_total` (a bounded set).
 * - `unavailable`: consecutive UNAVAILABLE attempts (`breaker.failureThreshold`)
 * - `timeout`: consecutive client-side timeouts while sibling connections answered (`breaker.timeoutThreshold`)
 * - `failure_rate`: too many failed attempts in the window (`breaker.failureRate`)
 * - `health_check`: a `grpc.health.v1` check did not answer SERVING
 * - `connectivity`: the channel fell into TRANSIENT_FAILURE
 */
export type EjectionReason =
  'unavailable' | 'timeout' | 'failure_rate' | 'health_check' | 'connectivity';

/** Every {@link EjectionReason}, to bind metric children once. @internal */
export const EJECTION_REASONS: readonly EjectionReason[] = [
  'unavailable',
  'timeout',
  'failure_rate',
  'health_check',
  'connectivity',
];

/**
 * Per-connection circuit breaker with outlier ejection. Closed: user calls may pick it. Open
 * (ejected): user calls skip it; after `ejectionMs` the pool probes it (half-open while the probe
 * runs) and only a probe that got an answer closes it again. A user attempt can never close a
 * circuit: an attempt that timed out got no answer, and one that answered was started before the
 * ejection and says nothing about the connection now.
 *
 * Not cockatiel's CircuitBreakerPolicy: that one can only be opened by calls it wraps (here a
 * connectivity change, a health check or a timeout seen on a sibling must eject too), and in
 * half-open it lets user calls through as probes, where a probe on a frozen backend would hang a
 * caller. @internal
 */
export class ConnectionBreaker {
  private state: CircuitState = 'closed';
  private unavailable = 0;
  private timeouts = 0;
  private openedAt = 0;
  private readonly window?: FailureWindow;

  constructor(
    private readonly settings: BreakerSettings,
    private readonly onChange: (state: CircuitState, reason: EjectionReason | undefined) => void,
    private readonly now: () => number = Date.now,
  ) {
    if (settings.failureRate) this.window = new FailureWindow(settings.failureRate.windowMs, now);
  }

  get current(): CircuitState {
    return this.state;
  }

  /** Whether user calls may pick the connection. */
  get closed(): boolean {
    return this.state === 'closed';
  }

  /** The server answered an attempt (any status it sent, OK or not). */
  answered(): void {
    this.unavailable = 0;
    this.timeouts = 0;
    this.window?.record(false);
  }

  /** An attempt failed with UNAVAILABLE; returns the ejection it caused, if any. */
  unavailableFailure(): EjectionReason | undefined {
    this.unavailable++;
    if (this.unavailable >= this.settings.failureThreshold) return this.eject('unavailable');
    return this.recordFailure();
  }

  /**
   * An attempt hit its client-side deadline while other connections answered: a failure of this
   * connection, never a success. Returns the ejection it caused, if any.
   */
  timeoutFailure(): EjectionReason | undefined {
    this.timeouts++;
    if (this.timeouts >= this.settings.timeoutThreshold) return this.eject('timeout');
    return this.recordFailure();
  }

  /** Ejects now; returns the reason when this closed an open circuit (to count it once). */
  eject(reason: EjectionReason): EjectionReason | undefined {
    if (this.state !== 'closed') return undefined;
    this.openedAt = this.now();
    this.reset();
    this.set('open', reason);
    return reason;
  }

  /** Whether an ejected connection is due for a probe; if so it turns half-open. */
  startProbe(): boolean {
    if (this.state !== 'open' || this.now() - this.openedAt < this.settings.ejectionMs)
      return false;
    this.set('half-open', undefined);
    return true;
  }

  /** The probe's outcome decides recovery. */
  probeResult(answered: boolean): void {
    if (this.state !== 'half-open') return;
    if (answered) {
      this.reset();
      this.set('closed', undefined);
    } else {
      this.openedAt = this.now();
      this.set('open', undefined);
    }
  }

  /** Milliseconds until an open circuit is due for a probe (0 when due). */
  get msUntilProbe(): number {
    return Math.max(0, this.openedAt + this.settings.ejectionMs - this.now());
  }

  private recordFailure(): EjectionReason | undefined {
    const rate = this.settings.failureRate;
    if (!rate || !this.window) return undefined;
    this.window.record(true);
    return this.window.requests >= rate.minRequests &&
      this.window.failures >= rate.threshold * this.window.requests
      ? this.eject('failure_rate')
      : undefined;
  }

  private reset(): void {
    this.unavailable = 0;
    this.timeouts = 0;
    this.window?.clear();
  }

  private set(state: CircuitState, reason: EjectionReason | undefined): void {
    if (this.state === state) return;
    this.state = state;
    this.onChange(state, reason);
  }
}
