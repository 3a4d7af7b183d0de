import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { crc32 } from 'node:zlib';

/**
 * Snapshot file of the memory store's done ids. Little-endian layout:
 * `KDEDUPSN` | u32 version | u32 crc32 of everything after it | u32 maxEntries | u32 fingerprint
 * version | f64 ttl | f64 savedAt | u32 count | u32 reserved | count × (u32 hi, u32 lo) | count ×
 * f64 expiry (absolute ms). Written to a temporary file, synced, then renamed over the old one, so
 * a crash mid-write leaves the previous snapshot intact. @internal
 */
const MAGIC = Buffer.from('KDEDUPSN');
const VERSION = 1;
/** Bump when the fingerprint function changes: old fingerprints would never match new ones. */
export const FINGERPRINT_VERSION = 1;
const HEADER = 48;

/** What must match for a snapshot to be loaded. @internal */
export interface SnapshotConfig {
  maxEntries: number;
  ttl: number;
}

/** The entries of a snapshot. @internal */
export interface SnapshotEntries {
  ids: Uint32Array;
  expiries: Float64Array;
}

/** Encodes a snapshot. @internal */
export function encodeSnapshot(
  config: SnapshotConfig,
  count: number,
  fill: (ids: Uint32Array, expiries: Float64Array) => void,
  savedAt: number,
): Buffer {
  const file = Buffer.alloc(HEADER + count * 16);
  MAGIC.copy(file, 0);
  file.writeUInt32LE(VERSION, 8);
  file.writeUInt32LE(config.maxEntries, 16);
  file.writeUInt32LE(FINGERPRINT_VERSION, 20);
  file.writeDoubleLE(config.ttl, 24);
  file.writeDoubleLE(savedAt, 32);
  file.writeUInt32LE(count, 40);
  const ids = new Uint32Array(file.buffer, file.byteOffset + HEADER, count * 2);
  const expiries = new Float64Array(file.buffer, file.byteOffset + HEADER + count * 8, count);
  // Typed arrays use the platform's byte order; every platform Node supports here is little-endian.
  fill(ids, expiries);
  file.writeUInt32LE(crc32(file.subarray(16)), 12);
  return file;
}

/**
 * Decodes a snapshot; throws an Error saying why it cannot be used (corrupt, another version or
 * another configuration). @internal
 */
export function decodeSnapshot(
  file: Buffer,
  config: SnapshotConfig,
): SnapshotEntries & { savedAt: number } {
  if (file.length < HEADER || !file.subarray(0, 8).equals(MAGIC)) {
    throw new Error('not a kafka-dedup snapshot');
  }
  const version = file.readUInt32LE(8);
  if (version !== VERSION) throw new Error(`snapshot format ${version}, expected ${VERSION}`);
  if (file.readUInt32LE(12) !== crc32(file.subarray(16))) {
    throw new Error('checksum mismatch (corrupt or truncated file)');
  }
  const maxEntries = file.readUInt32LE(16);
  const fingerprints = file.readUInt32LE(20);
  const ttl = file.readDoubleLE(24);
  if (fingerprints !== FINGERPRINT_VERSION) {
    throw new Error(`fingerprint version ${fingerprints}, expected ${FINGERPRINT_VERSION}`);
  }
  if (maxEntries !== config.maxEntries || ttl !== config.ttl) {
    throw new Error(
      `written with maxEntries ${maxEntries} and ttl ${ttl}, configured maxEntries ${config.maxEntries} and ttl ${config.ttl}`,
    );
  }
  const count = file.readUInt32LE(40);
  if (file.length !== HEADER + count * 16) throw new Error('length does not match its header');
  // Copy out: the file buffer may not be 8-byte aligned for a Float64Array view.
  const body = new Uint8Array(file.subarray(HEADER)).buffer;
  return {
    savedAt: file.readDoubleLE(32),
    ids: new Uint32Array(body, 0, count * 2),
    expiries: new Float64Array(body, count * 8, count),
  };
}

/** Reads the snapshot file, or `undefined` when there is none. @internal */
export function readSnapshotFile(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Writes `data` to `path` atomically (temporary file, fsync, rename), without blocking. @internal */
export async function writeFileAtomic(path: string, data: Buffer): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}

/** The same, synchronously (process exit paths). @internal */
export function writeFileAtomicSync(path: string, data: Buffer): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    let offset = 0;
    while (offset < data.length) offset += writeSync(fd, data, offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
