import { DedupOptionsError } from '../errors/dedup.errors';
import type { MemorySnapshotSettings } from './memory.store';

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
