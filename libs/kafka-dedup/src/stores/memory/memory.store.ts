import { Logger } from '@nestjs/common';
import { FP } from './fingerprint';
import type { ClaimResult, DedupKey } from '../../interfaces/dedup-key.interface';
import { KeyFingerprinter } from './key-fingerprinter';
import { CleanupResult, DedupStore } from '../dedup.store';
import { FingerprintTable } from './fingerprint-table';
import {
  decodeSnapshot,
  encodeSnapshot,
  readSnapshotFile,
  writeFileAtomic,
} from './memory.snapshot';
import type { MemorySnapshotSettings } from './memory.options';

const SWEEP_BATCH = 1_024;

/**
 * In-process store: done ids in a {@link FingerprintTable} (64-bit fingerprints, ~20 B per entry,
 * bounded by `maxEntries`, oldest evicted first); in-flight claims in a small Map (one entry per
 * message being handled). Answers synchronously. One cache per process: use the Redis store when
 * several replicas consume the same topics.
 */
export class MemoryDedupStore extends DedupStore {
  readonly name = 'memory';
  private readonly table: FingerprintTable;
  private readonly fingerprinter = new KeyFingerprinter();
  private readonly inFlight = new Map<number, { token: string; expiresAt: number }>();
  private nextToken = 0;

  private readonly snapshot?: MemorySnapshotSettings;
  private snapshotTimer?: NodeJS.Timeout;
  private saving?: Promise<void>;
  private readonly logger = new Logger('KafkaDedup');
  /** Ids loaded from the snapshot at start (0 without one). */
  readonly restored: number = 0;
  /** Called with the ms a caught duplicate's original still had to live (the window's histogram). */
  onDuplicate?: (remainingMs: number) => void;

  /**
   * @param snapshot with a `path`, the done ids are loaded from it at start and written to it at
   * shutdown (`close()`) and every `intervalMs` (0: only at shutdown).
   */
  constructor(
    private readonly maxEntries = 1_000_000,
    private readonly now: () => number = Date.now,
    snapshot?: MemorySnapshotSettings,
  ) {
    super();
    this.table = new FingerprintTable(maxEntries, now());
    if (snapshot?.path) {
      this.snapshot = snapshot;
      this.restored = this.loadSnapshot(snapshot);
      if (snapshot.intervalMs > 0) {
        this.snapshotTimer = setInterval(() => void this.saveSnapshot(), snapshot.intervalMs);
        this.snapshotTimer.unref();
      }
    }
  }

  /**
   * Writes the done ids to the snapshot file now (atomically: temporary file, fsync, rename).
   * Concurrent calls share one write. Failures are logged, never thrown.
   */
  saveSnapshot(): Promise<void> {
    const snapshot = this.snapshot;
    if (snapshot === undefined) return Promise.resolve();
    this.saving ??= (async () => {
      try {
        // Written straight into the file buffer: one copy of the table, then an async write.
        const file = encodeSnapshot(
          { maxEntries: this.maxEntries, ttl: snapshot.ttl },
          this.table.size,
          (ids, expiries) => this.table.exportInto(ids, expiries),
          this.now(),
        );
        await writeFileAtomic(snapshot.path, file);
      } catch (error) {
        this.logger.warn(
          `memory store: could not write the snapshot ${snapshot.path}: ${(error as Error).message}`,
        );
      } finally {
        this.saving = undefined;
      }
    })();
    return this.saving;
  }

  /** Stops the periodic snapshot and writes a last one. */
  override async close(): Promise<void> {
    clearInterval(this.snapshotTimer);
    this.snapshotTimer = undefined;
    if (this.snapshot === undefined) return;
    await this.saving;
    await this.saveSnapshot();
  }

  private loadSnapshot(snapshot: MemorySnapshotSettings): number {
    try {
      const file = readSnapshotFile(snapshot.path);
      if (file === undefined) return 0;
      const { ids, expiries } = decodeSnapshot(file, {
        maxEntries: this.maxEntries,
        ttl: snapshot.ttl,
      });
      return this.table.importEntries(ids, expiries, this.now());
    } catch (error) {
      this.logger.warn(
        `memory store: ignoring the snapshot ${snapshot.path}: ${(error as Error).message}; starting empty`,
      );
      return 0;
    }
  }

  override peek(key: DedupKey): ClaimResult['status'] | 'new' {
    return this.statusAt(key, this.now());
  }

  claim(key: DedupKey, leaseTtl: number): ClaimResult {
    const now = this.now();
    const status = this.statusAt(key, now);
    if (status !== 'new') return status === 'duplicate' ? DUPLICATE : IN_FLIGHT;
    const token = String(++this.nextToken);
    this.inFlight.set(inFlightId(FP[0], FP[1]), { token, expiresAt: now + leaseTtl });
    return { status: 'claimed', token };
  }

  /** Where `key` stands at `now`; leaves its fingerprint in `FP` for the caller. */
  private statusAt(key: DedupKey, now: number): ClaimResult['status'] | 'new' {
    this.fingerprinter.fingerprint(key);
    const hi = FP[0];
    const lo = FP[1];
    if (this.table.has(hi, lo, now)) {
      this.onDuplicate?.(this.table.remainingMs(hi, lo, now));
      return 'duplicate';
    }
    return this.heldAt(hi, lo, now) === undefined ? 'new' : 'in-flight';
  }

  commit(key: DedupKey, token: string, ttl: number): void {
    this.fingerprinter.fingerprint(key);
    const hi = FP[0];
    const lo = FP[1];
    this.drop(hi, lo, token);
    this.table.add(hi, lo, this.now(), ttl);
  }

  release(key: DedupKey, token: string): void {
    this.fingerprinter.fingerprint(key);
    this.drop(FP[0], FP[1], token);
  }

  renew(claims: ReadonlyArray<{ key: DedupKey; token: string }>, leaseTtl: number): void {
    const expiresAt = this.now() + leaseTtl;
    for (const { key, token } of claims) {
      this.fingerprinter.fingerprint(key);
      const held = this.inFlight.get(inFlightId(FP[0], FP[1]));
      if (held?.token === token) held.expiresAt = expiresAt;
    }
  }

  markIfAbsent(key: DedupKey, ttl: number): boolean {
    this.fingerprinter.fingerprint(key);
    const hi = FP[0];
    const lo = FP[1];
    const now = this.now();
    if (this.heldAt(hi, lo, now) !== undefined) return false;
    if (this.table.add(hi, lo, now, ttl)) return true;
    this.onDuplicate?.(this.table.remainingMs(hi, lo, now));
    return false;
  }

  /** The unexpired claim on a fingerprint, if any (no lookup while nothing is in flight). */
  private heldAt(hi: number, lo: number, now: number): { token: string } | undefined {
    if (this.inFlight.size === 0) return undefined;
    const held = this.inFlight.get(inFlightId(hi, lo));
    return held !== undefined && held.expiresAt > now ? held : undefined;
  }

  /** Drops the claim on a fingerprint when `token` holds it. */
  private drop(hi: number, lo: number, token: string): void {
    if (this.inFlight.size === 0) return;
    const id = inFlightId(hi, lo);
    if (this.inFlight.get(id)?.token === token) this.inFlight.delete(id);
  }

  size(): number {
    return this.table.size;
  }

  /** Bytes held by the fingerprint table. */
  get byteLength(): number {
    return this.table.byteLength;
  }

  override get evictions(): number {
    return this.table.evictions;
  }

  /** Ids evicted before their TTL ran out (the window fell below the TTL), since start. */
  get earlyEvictions(): number {
    return this.table.earlyEvictions;
  }

  /** Absolute expiry (ms) of the last id evicted before its TTL; 0 before any. */
  get lastEarlyEvictedExpiry(): number {
    return this.table.lastEarlyEvictedExpiry;
  }

  /** Most ids the table holds (`maxEntries`, or what `maxMemory` allows). */
  get capacity(): number {
    return this.maxEntries;
  }

  /** Sweeps expired ids in batches, yielding to the event loop after each `sliceMs` of work. */
  override async cleanup(sliceMs: number): Promise<CleanupResult> {
    const started = performance.now();
    let removed = 0;
    let maxPauseMs = 0;
    for (;;) {
      const sliceStart = performance.now();
      let batch = 0;
      do {
        batch = this.table.expire(this.now(), SWEEP_BATCH);
        removed += batch;
      } while (batch === SWEEP_BATCH && performance.now() - sliceStart < sliceMs);
      maxPauseMs = Math.max(maxPauseMs, performance.now() - sliceStart);
      if (batch < SWEEP_BATCH) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const now = this.now();
    for (const [id, held] of this.inFlight) if (held.expiresAt <= now) this.inFlight.delete(id);
    return { removed, durationMs: performance.now() - started, maxPauseMs };
  }
}

const DUPLICATE: ClaimResult = { status: 'duplicate' };
const IN_FLIGHT: ClaimResult = { status: 'in-flight' };

/** 53 bits of the fingerprint, a safe Map key for the (few) in-flight claims. */
function inFlightId(hi: number, lo: number): number {
  return (hi & 0x1fffff) * 4294967296 + lo;
}
