/** The part of Nest's `Logger` this needs. */
export interface WarnLogger {
  warn(message: string): void;
}

interface Window {
  suppressed: number;
  last: string;
  timer?: NodeJS.Timeout;
}

/**
 * Logs the first warning of a kind at once, then at most one summary per `intervalMs` with the
 * count of the warnings it held back and the latest of them, so a store outage or a topic full of
 * malformed messages writes a few lines instead of one per message. Exact counts stay in the
 * metrics. `kind` must come from a bounded set (operation, reason), never an id.
 *
 * One unref'd timer per kind while warnings are being held back; nothing per message.
 * @internal
 *
 * @example
 * const warnings = new RateLimitedLogger(new Logger('KafkaDedup'), 10_000);
 * warnings.warn('store:claim', `redis store failed during claim: ${error.message}`);
 */
export class RateLimitedLogger {
  private readonly windows = new Map<string, Window>();

  /** @param intervalMs shortest time between two lines of one kind. @default 10_000 */
  constructor(
    private readonly logger: WarnLogger,
    readonly intervalMs = 10_000,
  ) {}

  warn(kind: string, message: string): void {
    const window = this.windows.get(kind);
    if (window !== undefined) {
      window.suppressed++;
      window.last = message;
      return;
    }
    this.logger.warn(message);
    this.open(kind);
  }

  /** Writes the pending summaries now and stops the timers (at shutdown). */
  flush(): void {
    for (const [kind, window] of this.windows) {
      clearTimeout(window.timer);
      if (window.suppressed > 0) this.logger.warn(summary(window, this.intervalMs));
      this.windows.delete(kind);
    }
  }

  private open(kind: string): void {
    const window: Window = { suppressed: 0, last: '' };
    this.windows.set(kind, window);
    window.timer = setTimeout(() => this.close(kind, window), this.intervalMs);
    window.timer.unref();
  }

  private close(kind: string, window: Window): void {
    this.windows.delete(kind);
    if (window.suppressed === 0) return;
    // Still flooding: report the window and keep holding back for another interval.
    this.logger.warn(summary(window, this.intervalMs));
    this.open(kind);
  }
}

function summary(window: Window, intervalMs: number): string {
  const seconds = Math.round(intervalMs / 100) / 10;
  return `${window.last} (and ${window.suppressed} more like it in the last ${seconds} s; see the metrics for exact counts)`;
}
