/**
 * Debezium-shaped user change events, for the demo and the end-to-end suites: what a PostgreSQL
 * connector writes for a `users` table (JSON converter, no schema), with redelivered copies as
 * after an unclean connector restart (a recent range of the stream emitted again, unchanged).
 */

/** One Kafka record: the key is the user id (so one user's changes stay in order on one partition). */
export interface CdcRecord {
  key: string;
  value: string;
}

/** A generated stream and what it contains. */
export interface CdcStream {
  /** In production order, copies included. */
  records: CdcRecord[];
  /** Distinct changes (distinct source positions). */
  unique: number;
  /** Redelivered copies. */
  duplicates: number;
  /** Users that exist once every change is applied (id → name). */
  liveUsers: Map<string, string>;
}

/** Options of {@link cdcStream}. */
export interface CdcStreamOptions {
  /** Distinct changes to generate. */
  changes: number;
  /** Copies as a share of `changes` (0.2: ~20% extra records). @default 0.2 */
  duplicateRatio?: number;
  /** Distinct users the changes touch. @default changes / 4 */
  users?: number;
  /** Prefix of the user ids, so runs do not collide. @default 'u' */
  idPrefix?: string;
  /** First source LSN. @default 1_000_000 */
  lsnBase?: number;
  /** Seed of the pseudo-random choices (a run is reproducible). @default 1 */
  seed?: number;
}

/** One Debezium envelope as a JSON string. */
export function cdcEnvelope(
  op: 'c' | 'u' | 'd' | 'r',
  row: { id: string; email: string; name: string },
  lsn: number,
  txId: number,
  tsMs = Date.now(),
): string {
  const source = {
    version: '2.7.0.Final',
    connector: 'postgresql',
    name: 'cdc',
    ts_ms: tsMs,
    db: 'app',
    schema: 'public',
    table: 'users',
    txId,
    lsn,
  };
  return JSON.stringify({
    before: op === 'd' || op === 'u' ? row : null,
    after: op === 'd' ? null : row,
    source,
    op,
    ts_ms: tsMs,
  });
}

/**
 * Generates a stream: each user is created (or snapshot-read), then updated; about one in twelve
 * later changes deletes a user, which a later change may re-create. Replays of recent ranges add
 * `duplicateRatio × changes` copies.
 *
 * @example const { records, unique } = cdcStream({ changes: 1000 });
 */
export function cdcStream(options: CdcStreamOptions): CdcStream {
  const { changes, duplicateRatio = 0.2, idPrefix = 'u', lsnBase = 1_000_000, seed = 1 } = options;
  const userCount = Math.max(1, options.users ?? Math.ceil(changes / 4));
  const random = mulberry32(seed);
  const live = new Map<string, string>();
  const originals: CdcRecord[] = [];
  for (let i = 0; i < changes; i++) {
    const id = `${idPrefix}-${Math.floor(random() * userCount) + 1}`;
    const name = `User ${id} v${i}`;
    const row = { id, email: `${id}@example.com`, name };
    let op: 'c' | 'u' | 'd' | 'r';
    if (!live.has(id)) op = i % 10 === 0 ? 'r' : 'c';
    else op = random() < 1 / 12 ? 'd' : 'u';
    if (op === 'd') live.delete(id);
    else live.set(id, name);
    // Several changes share a transaction, as a multi-row statement would.
    originals.push({
      key: id,
      value: cdcEnvelope(op, row, lsnBase + i * 8, 5000 + Math.floor(i / 3)),
    });
  }
  // Replays: a few ranges of recent records emitted again right after the original range.
  const records: CdcRecord[] = [];
  const copies = Math.round(changes * duplicateRatio);
  const replayCount = Math.max(1, Math.min(8, Math.floor(copies / 25)));
  const replayAt = new Map<number, number>(); // index after which → how many of the previous records
  let planned = 0;
  for (let r = 0; r < replayCount && copies > 0; r++) {
    const size = r === replayCount - 1 ? copies - planned : Math.floor(copies / replayCount);
    const at = Math.min(
      changes - 1,
      Math.max(size, Math.floor(((r + 1) * changes) / (replayCount + 1))),
    );
    replayAt.set(at, (replayAt.get(at) ?? 0) + size);
    planned += size;
  }
  let duplicates = 0;
  for (let i = 0; i < originals.length; i++) {
    records.push(originals[i]);
    const replay = replayAt.get(i);
    if (replay) {
      const from = Math.max(0, i + 1 - replay);
      for (let j = from; j <= i; j++) records.push(originals[j]);
      duplicates += i + 1 - from;
    }
  }
  return { records, unique: changes, duplicates, liveUsers: live };
}

/** A small seeded PRNG (reproducible streams without a dependency). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
