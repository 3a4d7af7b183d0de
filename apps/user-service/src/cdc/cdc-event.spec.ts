import { parseUserChange, valueSize } from './cdc-event';

const row = { id: 'u-1', email: 'a@example.com', name: 'A' };
const event = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  before: null,
  after: row,
  source: { lsn: 123, txId: 7 },
  op: 'c',
  ts_ms: 1,
  ...overrides,
});
const parse = (value: unknown, max = 1000): ReturnType<typeof parseUserChange> =>
  parseUserChange(value, valueSize(value), max);

describe('parseUserChange', () => {
  it('accepts c/u/r with the after row and d with the before row', () => {
    for (const op of ['c', 'u', 'r']) {
      const result = parse(event({ op }));
      expect(result).toMatchObject({
        ok: true,
        change: { op, userId: 'u-1', sourceLsn: 123n, txId: 7n },
      });
    }
    const deleted = parse(event({ op: 'd', before: row, after: null }));
    expect(deleted).toMatchObject({ ok: true, change: { op: 'd', userId: 'u-1', row: null } });
  });

  it('takes positions beyond 2^53 as decimal strings without losing digits', () => {
    const result = parse(event({ source: { lsn: '9223372036854775807', txId: '1' } }));
    expect(result.ok && result.change.sourceLsn).toBe(9223372036854775807n);
  });

  it.each([
    ['a tombstone (null value)', null, 'tombstone'],
    ['a value that is not JSON', 'not json', 'not_json'],
    ['a binary value', Buffer.from([0, 1, 2]), 'not_json'],
    ['an event without source', event({ source: undefined }), 'missing_source'],
    ['a negative position', event({ source: { lsn: -1 } }), 'missing_source'],
    ['an unknown op', event({ op: 'x' }), 'unknown_op'],
    ['a create without after.id', event({ after: { name: 'x' } }), 'missing_row'],
    ['a value over the size limit', event({ pad: 'x'.repeat(2000) }), 'too_large'],
  ])('skips %s with a reason', (_name, value, reason) => {
    expect(parse(value)).toEqual({ ok: false, reason });
  });
});
