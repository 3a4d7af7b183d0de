import { earlyEvictionWarning } from '../../errors/window.messages';
import { tableBytesFor } from './memory-budget';

/** What the memory store tells the window (all read off the hot path). @internal */
export interface MemoryWindowSource {
  /** Ids evicted before their TTL, since start. */
  readonly earlyEvictions: number;
  /** Absolute expiry (ms) of the last id evicted before its TTL; 0 before any. */
  readonly lastEarlyEvictedExpiry: number;
  /** Most ids the table holds. */
  readonly capacity: number;
}

/**
 * How far back the memory store remembers, computed when asked (a scrape, a health check), never
 * per message. The table is FIFO with one TTL, so every id inserted after the last one evicted
 * before its TTL is still there: the window is the age that id would have now,
 * `ttl - (its expiry - now)`, and the TTL itself once that id would have expired anyway (or
 * before any early eviction). It shrinks to ~`capacity / rate` while the table overflows, and
 * grows back to the TTL at one second per second once it stops.
 * @internal
 */
export class MemoryWindow {
  private reported = 0;

  constructor(
    private readonly store: MemoryWindowSource,
    /** The current TTL in ms. */
    private readonly ttl: () => number,
    private readonly now: () => number = Date.now,
    /** `maxMemory` in bytes, when the table was sized from it (for the warning's advice). */
    private readonly budgetBytes?: number,
  ) {}

  /** The window in ms. */
  windowMs(): number {
    const ttl = this.ttl();
    const last = this.store.lastEarlyEvictedExpiry;
    if (last === 0) return ttl;
    return Math.min(ttl, Math.max(0, ttl - (last - this.now())));
  }

  /**
   * The warning to log when ids were evicted before their TTL since the last call, else
   * `undefined`. States the window, the TTL, the rate of new ids over the window
   * (capacity / window: the table holds exactly the ids of the last window) and the `maxEntries`
   * or `maxMemory` that would hold the whole TTL at that rate.
   */
  earlyEvictionWarning(): string | undefined {
    const early = this.store.earlyEvictions;
    const evicted = early - this.reported;
    if (evicted <= 0) return undefined;
    this.reported = early;
    const windowMs = this.windowMs();
    const ttlMs = this.ttl();
    const capacity = this.store.capacity;
    const ratePerSecond = capacity / (Math.max(windowMs, 1) / 1000);
    const neededEntries = Math.ceil((ratePerSecond * ttlMs) / 1000);
    return earlyEvictionWarning({
      windowMs,
      ttlMs,
      evicted,
      ratePerSecond,
      capacity,
      budgetBytes: this.budgetBytes,
      neededEntries,
      neededBytes: tableBytesFor(neededEntries),
    });
  }
}
