import type { KafkaContext } from '@nestjs/microservices';
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
    expect(extract({ headers: {} }, ctx)).toEqual({ missing: 'no "x-event-id" header' });
    expect(extract({ headers: { 'x-event-id': '' } }, ctx)).toEqual({
      missing: 'no "x-event-id" header',
    });
    expect(extract({}, ctx)).toEqual({ missing: 'no "x-event-id" header' });
  });

  it('reads the message key', () => {
    const extract = createKeyExtractor({ from: 'key' });
    expect(extract({ key: 'user-7' }, ctx)).toBe('user-7');
    expect(extract({ key: null }, ctx)).toEqual({ missing: 'no message key' });
  });

  it('joins several JSON paths of a Debezium envelope', () => {
    const extract = createKeyExtractor({ from: 'value', path: ['source.lsn', 'source.txId'] });
    expect(extract({ value: { source: { lsn: 33_554_432, txId: 771 } } }, ctx)).toBe(
      '33554432:771',
    );
    expect(extract({ value: { source: { lsn: 1 } } }, ctx)).toEqual({
      missing: 'no "source.txId" in value',
    });
    expect(extract({ value: 'plain text' }, ctx)).toEqual({
      missing: 'value is not a JSON object',
    });
    expect(extract({ value: Buffer.from([0, 1]) }, ctx)).toEqual({
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
    expect(extract({}, ctx)).toEqual({ missing: 'key function threw: bad schema' });
  });
});
