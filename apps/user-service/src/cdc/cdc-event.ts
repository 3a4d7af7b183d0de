/** A Debezium operation: create, update, delete, snapshot read. */
export type CdcOp = 'c' | 'u' | 'd' | 'r';

/** The user row as Debezium writes it in `before` / `after`. */
export interface CdcUserRow {
  id: string | number;
  email?: string | null;
  name?: string | null;
  [column: string]: unknown;
}

/** A Debezium change event envelope (the value of a `cdc.users` message, JSON converter, no schema). */
export interface CdcUserChange {
  before: CdcUserRow | null;
  after: CdcUserRow | null;
  source: { lsn: number | string; txId?: number | string | null; [field: string]: unknown };
  op: CdcOp;
  ts_ms?: number;
}

/** Why a message was skipped without touching the database (a bounded metric label). */
export type CdcSkipReason =
  'tombstone' | 'not_json' | 'too_large' | 'missing_source' | 'unknown_op' | 'missing_row';

/** A change ready to apply. */
export interface ParsedUserChange {
  op: CdcOp;
  userId: string;
  row: CdcUserRow | null;
  sourceLsn: bigint;
  txId: bigint | null;
  tsMs: number | null;
  envelope: CdcUserChange;
}

/** The outcome of {@link parseUserChange}. */
export type ParseResult =
  { ok: true; change: ParsedUserChange } | { ok: false; reason: CdcSkipReason };

const OPS = new Set<string>(['c', 'u', 'd', 'r']);

/**
 * Checks a decoded message value (Nest's Kafka parser has JSON-parsed it when it could) against
 * the Debezium envelope. Never throws: a malformed event is a reason to skip, so it can neither
 * crash the consumer nor block its partition by being redelivered for ever.
 *
 * @example parseUserChange(null, 0) // { ok: false, reason: 'tombstone' }
 */
export function parseUserChange(value: unknown, sizeBytes: number, maxBytes: number): ParseResult {
  if (value === null || value === undefined || sizeBytes === 0)
    return { ok: false, reason: 'tombstone' };
  if (sizeBytes > maxBytes) return { ok: false, reason: 'too_large' };
  if (typeof value !== 'object' || Buffer.isBuffer(value) || Array.isArray(value))
    return { ok: false, reason: 'not_json' };
  const event = value as Partial<CdcUserChange>;
  const source = event.source;
  const sourceLsn = toBigInt(source?.lsn);
  if (!source || typeof source !== 'object' || sourceLsn === null)
    return { ok: false, reason: 'missing_source' };
  if (typeof event.op !== 'string' || !OPS.has(event.op))
    return { ok: false, reason: 'unknown_op' };
  const row = event.op === 'd' ? event.before : event.after;
  const id = row && typeof row === 'object' ? row.id : undefined;
  if ((typeof id !== 'string' && typeof id !== 'number') || String(id).length === 0)
    return { ok: false, reason: 'missing_row' };
  return {
    ok: true,
    change: {
      op: event.op,
      userId: String(id),
      row: event.op === 'd' ? null : (row as CdcUserRow),
      sourceLsn,
      txId: toBigInt(source.txId),
      tsMs:
        typeof event.ts_ms === 'number' && Number.isSafeInteger(event.ts_ms) ? event.ts_ms : null,
      envelope: event as CdcUserChange,
    },
  };
}

/** The byte size of a raw Kafka value (string, Buffer or null). */
export function valueSize(raw: unknown): number {
  if (raw === null || raw === undefined) return 0;
  if (Buffer.isBuffer(raw)) return raw.length;
  if (typeof raw === 'string') return Buffer.byteLength(raw);
  return Buffer.byteLength(JSON.stringify(raw) ?? '');
}

const INT64_MAX = 2n ** 63n - 1n;

/** A non-negative int64 from a JSON number or a decimal string; `null` otherwise. */
function toBigInt(value: unknown): bigint | null {
  let n: bigint;
  if (typeof value === 'number' && Number.isSafeInteger(value)) n = BigInt(value);
  else if (typeof value === 'string' && /^\d{1,19}$/.test(value)) n = BigInt(value);
  else return null;
  return n >= 0n && n <= INT64_MAX ? n : null;
}
