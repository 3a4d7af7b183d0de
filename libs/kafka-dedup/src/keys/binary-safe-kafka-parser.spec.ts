import { ServerKafka } from '@nestjs/microservices';
import { BinarySafeKafkaParser, BinarySafeServerKafka } from './binary-safe-kafka-parser';

const options = { client: { brokers: ['127.0.0.1:1'] } };

function eventHandler(name: string) {
  return Object.assign(async () => name, { isEventHandler: true });
}

describe('BinarySafeKafkaParser', () => {
  it('keeps bytes that are not UTF-8 and decodes text as Nest does', () => {
    const parser = new BinarySafeKafkaParser();
    const binary = Buffer.from([0xff, 0x01]);
    expect(parser.decode(binary)).toBe(binary);
    expect(parser.decode(Buffer.from('user-7'))).toBe('user-7');
  });
});

describe('BinarySafeServerKafka handler look-up', () => {
  afterEach(() => jest.restoreAllMocks());

  it('resolves a topic once, with the answer of Nest’s own look-up', () => {
    const server = new BinarySafeServerKafka(options);
    const stock = new ServerKafka(options);
    const handler = eventHandler('cdc');
    for (const s of [server, stock]) s.addHandler('user.cdc', handler, true);
    // protected in Nest's Server: where it tries JSON.parse on the topic
    const nest = ServerKafka.prototype as unknown as { getRouteFromPattern(p: string): string };
    const parse = jest.spyOn(nest, 'getRouteFromPattern');

    const first = server.getHandlerByPattern('user.cdc');
    for (let i = 0; i < 100; i++) expect(server.getHandlerByPattern('user.cdc')).toBe(first);
    expect(first).toBe(handler);
    expect(stock.getHandlerByPattern('user.cdc')).toBe(handler);
    expect(server.getHandlerByPattern('other')).toBeNull();
    expect(server.getHandlerByPattern('other')).toBeNull();
    // Nest's look-up parses a topic once when it has a handler, twice when not (the RegExp scan):
    // here once for the server's first look-up of each topic and once for the stock server's call
    expect(parse.mock.calls.map(([pattern]) => pattern)).toEqual([
      'user.cdc',
      'user.cdc',
      'other',
      'other',
    ]);
  });

  it('forgets what it resolved when a handler is added', () => {
    const server = new BinarySafeServerKafka(options);
    expect(server.getHandlerByPattern('user.cdc')).toBeNull();
    const handler = eventHandler('late');
    server.addHandler('user.cdc', handler, true);
    expect(server.getHandlerByPattern('user.cdc')).toBe(handler);
  });
});
