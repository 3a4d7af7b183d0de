import { GrpcPoolOptionsError } from '../errors/grpc-pool.errors';
import { resolveDiscovery, resolveSizing, type FailOption } from './discovery.options';

const fail: FailOption = (option, value, expected) => {
  throw new GrpcPoolOptionsError('auth', option, value, expected);
};

describe('discovery options', () => {
  it('turns discovery on for a dns:/// url, with the name and port from it', () => {
    const d = resolveDiscovery(fail, 'dns:///auth.default.svc:50061', undefined, undefined);
    expect(d).toMatchObject({ host: 'auth.default.svc', port: 50061, servers: undefined });
    expect(d && d.refreshIntervalMs).toBe(10_000);
  });

  it('takes the DNS server from the url authority (dns://server/host:port)', () => {
    const d = resolveDiscovery(fail, 'dns://127.0.0.1:5353/multi.test:9000', undefined, undefined);
    expect(d).toMatchObject({ host: 'multi.test', port: 9000, servers: ['127.0.0.1:5353'] });
  });

  it('leaves static targets, IP literals and discovery: false alone', () => {
    expect(resolveDiscovery(fail, '127.0.0.1:50051', undefined, undefined)).toBe(false);
    expect(resolveDiscovery(fail, 'dns:///127.0.0.1:50051', undefined, undefined)).toBe(false);
    expect(resolveDiscovery(fail, 'dns:///auth:50061', undefined, false)).toBe(false);
  });

  it('accepts an explicit discovery option without url', () => {
    const d = resolveDiscovery(fail, undefined, undefined, {
      name: 'auth:50061',
      servers: ['10.0.0.10', '[::1]:53'],
      refreshIntervalMs: 500,
    });
    expect(d).toMatchObject({ host: 'auth', servers: ['10.0.0.10', '[::1]:53'] });
    expect(d && d.minRefreshIntervalMs).toBe(500);
  });

  it.each([
    [{ urls: ['a:1'], discovery: { name: 'a:1' } }, /"discovery".*not both/],
    [{ url: '127.0.0.1:1', discovery: {} }, /"url" = "127.0.0.1:1".*dns:\/\/\//],
    [{ url: 'dns:///a:1', discovery: { name: 'b:1' } }, /"discovery.name" = "b:1": conflicts/],
    [{ discovery: {} }, /"discovery.name" = undefined/],
    [{ discovery: { name: '10.0.0.1:50' } }, /"discovery.name" = "10.0.0.1:50"/],
    [{ discovery: { name: 'a:1', servers: ['dns.local'] } }, /"discovery.servers" = "dns.local"/],
    [{ discovery: { name: 'a:1', servers: [] } }, /"discovery.servers" = \[\]/],
    [{ discovery: { name: 'a:1', refreshIntervalMs: 5 } }, /"discovery.refreshIntervalMs" = 5/],
    [
      { discovery: { name: 'a:1', refreshIntervalMs: 1000, minRefreshIntervalMs: 2000 } },
      /"discovery.minRefreshIntervalMs" = 2000: expected an integer from 0 to 1000/,
    ],
    [{ discovery: { name: 'a:1', refresh: 1 } }, /"discovery.refresh" = 1: unknown option/],
    [{ discovery: 'auth:1' }, /"discovery" = "auth:1"/],
  ])('rejects %j naming the option and the value', (o, message) => {
    const { url, urls, discovery } = o as unknown as Record<string, never>;
    expect(() => resolveDiscovery(fail, url, urls, discovery)).toThrow(message);
  });
});

describe('size options', () => {
  it('fills in load-driven size defaults: target 75% of the stream limit', () => {
    expect(resolveSizing(fail, {})).toEqual({
      min: 1,
      max: 8,
      maxConcurrentStreams: 100,
      targetInFlight: 75,
      intervalMs: 1_000,
      shrinkAfterMs: 30_000,
      maxStep: 2,
    });
    expect(resolveSizing(fail, { maxConcurrentStreams: 8 }).targetInFlight).toBe(6);
  });

  it.each([
    [{ min: 0 }, /"size.min" = 0/],
    [{ min: 4, max: 2 }, /"size.max" = 2: must be >= size.min \(4\)/],
    [{ maxConcurrentStreams: 8, targetInFlight: 8 }, /"size.targetInFlight" = 8: .* to 7/],
    [{ maxStep: 0 }, /"size.maxStep" = 0/],
    [{ mx: 3 }, /"size.mx" = 3: unknown option/],
  ])('rejects %j naming the option and the value', (size, message) => {
    expect(() => resolveSizing(fail, size as never)).toThrow(message);
  });
});
