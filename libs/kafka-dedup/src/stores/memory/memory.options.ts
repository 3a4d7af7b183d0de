import { DedupOptionsError } from '../../errors/dedup.errors';

/** Memory store settings (with `store: 'memory'`, the default). */
export interface DedupMemoryOptions {
  /**
   * File the done ids are saved to at shutdown (`app.enableShutdownHooks()` is needed for SIGTERM)
   * and every `snapshotIntervalMs`, and loaded from at start, so a restart does not forget them.
   * Written atomically; a corrupt file, or one written with another `maxEntries` or `ttl`, is
   * ignored with a warning. @default undefined (no snapshot)
   */
  snapshotPath?: string;
  /**
   * Period of the snapshot, in ms; 0 writes it only at shutdown. After a SIGKILL, the ids processed
   * since the last snapshot are forgotten. @default 5_000
   */
  snapshotIntervalMs?: number;
}

/** Snapshot settings of the memory store. @internal */
export interface MemorySnapshotSettings {
  /** File the done ids are saved to and loaded from. */
  path: string;
  /** Period of the snapshot in ms; 0: only at shutdown. */
  intervalMs: number;
  /** The module's `ttl`: a snapshot written with another one is ignored. */
  ttl: number;
}

/** Default of `memory.snapshotIntervalMs`. */
const SNAPSHOT_INTERVAL = 5_000;

/**
 * Validates `memory: { … }` at module creation; returns the snapshot settings, or `undefined`
 * without a `snapshotPath`. @internal
 */
export function validateMemoryOptions(
  memory: unknown,
  store: unknown,
  ttl: number,
): MemorySnapshotSettings | undefined {
  if (memory === undefined) return undefined;
  if (typeof memory !== 'object' || memory === null || Array.isArray(memory)) {
    throw new DedupOptionsError('memory', memory, 'expected an object');
  }
  if (store !== 'memory') {
    throw new DedupOptionsError('memory', '{…}', 'only meaningful with store: "memory"');
  }
  const options = memory as Record<string, unknown>;
  for (const name of Object.keys(options)) {
    if (name !== 'snapshotPath' && name !== 'snapshotIntervalMs') {
      throw new DedupOptionsError(`memory.${name}`, options[name], 'unknown option');
    }
  }
  const { snapshotPath, snapshotIntervalMs } = options;
  if (snapshotPath !== undefined && (typeof snapshotPath !== 'string' || snapshotPath === '')) {
    throw new DedupOptionsError('memory.snapshotPath', snapshotPath, 'expected a file path');
  }
  if (
    snapshotIntervalMs !== undefined &&
    (typeof snapshotIntervalMs !== 'number' ||
      !Number.isInteger(snapshotIntervalMs) ||
      snapshotIntervalMs < 0)
  ) {
    throw new DedupOptionsError(
      'memory.snapshotIntervalMs',
      snapshotIntervalMs,
      'expected an integer >= 0 (milliseconds; 0 = only at shutdown)',
    );
  }
  if (snapshotPath === undefined) {
    if (snapshotIntervalMs !== undefined) {
      throw new DedupOptionsError(
        'memory.snapshotIntervalMs',
        snapshotIntervalMs,
        'needs memory.snapshotPath',
      );
    }
    return undefined;
  }
  return {
    path: snapshotPath,
    intervalMs: (snapshotIntervalMs as number | undefined) ?? SNAPSHOT_INTERVAL,
    ttl,
  };
}
