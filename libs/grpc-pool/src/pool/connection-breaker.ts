/** Circuit state of one connection. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * Per-connection circuit breaker with outlier ejection. Closed: selectable. Open (ejected): skipped
 * until `ejectionMs` has passed, then exactly one call is let through as a probe (half-open); its
 * success closes the circuit, its failure ejects the connection again.
 *
 * Not cockatiel's CircuitBreakerPolicy: that one can only be opened by calls it wraps (here a
 * connectivity change or a failed health check must eject too), and in half-open it queues the
 * other calls behind the probe, where the pool must route them to another connection instead.
 * @internal
 */
export class ConnectionBreaker {
  private state: CircuitState = 'closed';
  private failures = 0;
  private openedAt = 0;

  constructor(
    private readonly failureThreshold: number,
    private readonly ejectionMs: number,
    private readonly onChange: (state: CircuitState) => void,
    private readonly now: () => number = Date.now,
  ) {}

  get current(): CircuitState {
    return this.state;
  }

  /** Whether a call may use the connection now; an open circuit past its ejection gives a probe. */
  tryAcquire(): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open' && this.now() - this.openedAt >= this.ejectionMs) {
      this.set('half-open');
      return true;
    }
    return false;
  }

  /** Whether {@link tryAcquire} would succeed (no state change). */
  get available(): boolean {
    return (
      this.state === 'closed' ||
      (this.state === 'open' && this.now() - this.openedAt >= this.ejectionMs)
    );
  }

  success(): void {
    this.failures = 0;
    if (this.state !== 'closed') this.set('closed');
  }

  /** A connection-level failure; returns true when it ejected the connection. */
  failure(): boolean {
    this.failures++;
    if (
      this.state === 'half-open' ||
      (this.state === 'closed' && this.failures >= this.failureThreshold)
    ) {
      this.eject();
      return true;
    }
    return false;
  }

  /** Ejects now (connectivity lost, health check failed). */
  eject(): void {
    this.openedAt = this.now();
    this.failures = 0;
    this.set('open');
  }

  private set(state: CircuitState): void {
    if (this.state === state) return;
    this.state = state;
    this.onChange(state);
  }
}
