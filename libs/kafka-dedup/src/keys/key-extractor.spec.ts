import type { KafkaContext } from '@nestjs/microservices';
import { KafkaParser } from '@nestjs/microservices';
import { BinarySafeKafkaParser } from './binary-safe-kafka-parser';
import { createKeyExtractor } from './key-extractor';

const ctx = {} as KafkaContext;

describe('createKeyExtractor', () => {
  it('reads a header given as a string, a Buffer, a number or an array', () => {
    const extract = createKeyExtractor({ from: 'header', name: 'x-event-id' });
    expect(extract({ headers: { 'x-event-id': 'e1' } }, ctx)).toBe('e1');
    const binary = Buffer.from([0, 1, 2]);
    expect(extract({ headers: { 'x-event-id': binary } }, ctx)).toBe(binary);
    expect(extract({ headers: { 'x-event-id': 42 } }, ctx)).toBe('42');
    expect(extract({ headers: { 'x-event-id': ['first', 'second'] } }, ctx)).toBe('first');
    expect(extract({ headers: { 'x-event-id': { a: 1 } } }, ctx)).toBe('{"a":1}');
  });

  it('reports a missing or empty header', () => {
    const extract = createKeyExtractor({ from: 'header', name: 'x-event-id' });
    expect(extract({ headers: {} }, ctx)).toEqual({
      missing: 'no "x-event-id" header',
      kind: 'absent',
    });
    expect(extract({ headers: { 'x-event-id': '' } }, ctx)).toEqual({
      missing: 'empty "x-event-id" header',
      kind: 'empty',
    });
    expect(extract({ headers: { 'x-event-id': Buffer.alloc(0) } }, ctx)).toMatchObject({
      kind: 'empty',
    });
    expect(extract({}, ctx)).toMatchObject({ missing: 'no "x-event-id" header' });
  });

  it('reads the message key', () => {
    const extract = createKeyExtractor({ from: 'key' });
    expect(extract({ key: 'user-7' }, ctx)).toBe('user-7');
    expect(extract({ key: null }, ctx)).toMatchObject({ missing: 'no message key' });
  });

  it('joins several JSON paths of a Debezium envelope', () => {
    const extract = createKeyExtractor({ from: 'value', path: ['source.lsn', 'source.txId'] });
    expect(extract({ value: { source: { lsn: 33_554_432, txId: 771 } } }, ctx)).toBe(
      '33554432:771',
    );
    expect(extract({ value: { source: { lsn: 1 } } }, ctx)).toMatchObject({
      missing: 'no "source.txId" in value',
    });
    expect(extract({ value: 'plain text' }, ctx)).toMatchObject({
      missing: 'value is not a JSON object',
    });
    expect(extract({ value: Buffer.from([0, 1]) }, ctx)).toMatchObject({
      missing: 'value is not a JSON object',
    });
  });

  it('turns a key function that throws into a missing key instead of a crash', () => {
    const extract = createKeyExtractor({
      from: 'function',
      extract: () => {
        throw new Error('bad schema');
      },
    });
    expect(extract({}, ctx)).toMatchObject({ missing: 'key function threw: bad schema' });
  });

  it('refuses an id that Nest decoded lossily, so two different binary ids never collapse into one', () => {
    const extract = createKeyExtractor({ from: 'header', name: 'x-event-id' });
    const parser = new KafkaParser();
    const a = parser.decode(Buffer.from([0xff, 0x01]));
    const b = parser.decode(Buffer.from([0xfe, 0x01]));
    expect(a).toEqual(b); // what Nest's own parser hands over: the same text for both
    expect(extract({ headers: { 'x-event-id': a } }, ctx)).toMatchObject({ kind: 'lossy' });
    expect(createKeyExtractor({ from: 'key' })({ key: b }, ctx)).toMatchObject({ kind: 'lossy' });
  });

  it('uses the raw bytes BinarySafeKafkaParser keeps, distinct for ff 01 and fe 01', () => {
    const extract = createKeyExtractor({ from: 'header', name: 'x-event-id' });
    const parser = new BinarySafeKafkaParser();
    const parsed = (bytes: number[]): unknown =>
      parser.parse<{ headers: Record<string, unknown> }>({
        value: Buffer.from('{}'),
        headers: { 'x-event-id': Buffer.from(bytes) },
      }).headers['x-event-id'];
    const a = extract({ headers: { 'x-event-id': parsed([0xff, 0x01]) } }, ctx);
    const b = extract({ headers: { 'x-event-id': parsed([0xfe, 0x01]) } }, ctx);
    expect(Buffer.isBuffer(a) && Buffer.isBuffer(b)).toBe(true);
    expect((a as Buffer).equals(b as Buffer)).toBe(false);
    // Valid UTF-8 is decoded exactly as Nest's parser does.
    expect(parsed([0x65, 0x31])).toBe('e1');
    expect(parser.decode(Buffer.from('{"a":1}'))).toEqual({ a: 1 });
  });
});
