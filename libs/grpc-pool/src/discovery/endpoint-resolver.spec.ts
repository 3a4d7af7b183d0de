import { Logger } from '@nestjs/common';
import type { ResolvedDiscovery } from '../options/discovery.options';
import type { DiscoveryMetrics } from './discovery.metrics';
import type { HostLookup, Resolution } from './dns-lookup';
import { EndpointResolver } from './endpoint-resolver';

const settings: ResolvedDiscovery = {
  host: 'auth.test',
  port: 50061,
  refreshIntervalMs: 60_000,
  minRefreshIntervalMs: 0,
  lookupTimeoutMs: 100,
  startupTimeoutMs: 600,
  warmupTimeoutMs: 1_000,
  slowStartMs: 0,
  drainTimeoutMs: 1_000,
};

function setup(answers: Resolution[]) {
  const lookup: HostLookup = {
    lookup: jest.fn(async () => (answers.length > 1 ? answers.shift()! : answers[0])),
    cancel: jest.fn(),
  };
  const results: string[] = [];
  const metrics = { resolution: (r: string) => results.push(r) } as unknown as DiscoveryMetrics;
  const applied: string[][] = [];
  const logger = new Logger('test');
  const warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
  const resolver = new EndpointResolver(
    'auth',
    settings,
    lookup,
    (targets) => applied.push(targets),
    metrics,
    logger,
  );
  return { resolver, applied, results, warn, lookup };
}

const ok = (...addresses: string[]): Resolution => ({ result: 'ok', addresses });
const nx: Resolution = {
  result: 'not_found',
  addresses: [],
  error: 'ENOTFOUND (queryA ENOTFOUND auth.test)',
};

describe('EndpointResolver', () => {
  it("dials each address of an answer on the name's port", async () => {
    const { resolver, applied } = setup([ok('10.0.0.2', 'fd00::2')]);
    await resolver.first();
    expect(applied).toEqual([['ipv4:10.0.0.2:50061', 'ipv6:[fd00::2]:50061']]);
  });

  it('waits at bootstrap for a name that resolves to nothing yet', async () => {
    const { resolver, applied, results } = setup([nx, nx, ok('10.0.0.2')]);
    await resolver.first();
    expect(applied).toEqual([['ipv4:10.0.0.2:50061']]);
    expect(results).toEqual(['not_found', 'not_found', 'ok']);
  });

  it('fails bootstrap after startupTimeoutMs, naming the pool, the name and the resolver error', async () => {
    const { resolver } = setup([nx]);
    await expect(resolver.first()).rejects.toThrow(
      /GrpcPool "auth": "auth.test:50061" resolved to no address within \d+ ms .*ENOTFOUND/,
    );
  });

  it('keeps the last known set on a failed or empty answer, warning once and counting each', async () => {
    const empty: Resolution = { result: 'empty', addresses: [], error: 'no records' };
    const { resolver, applied, results, warn } = setup([
      ok('10.0.0.2'),
      nx,
      empty,
      nx,
      ok('10.0.0.3'),
    ]);
    await resolver.first();
    await resolver.resolve();
    await resolver.resolve();
    await resolver.resolve();
    expect(applied).toEqual([['ipv4:10.0.0.2:50061']]);
    expect(results).toEqual(['ok', 'not_found', 'empty', 'not_found']);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/keeping the last known addresses/);
    await resolver.resolve();
    expect(applied).toEqual([['ipv4:10.0.0.2:50061'], ['ipv4:10.0.0.3:50061']]);
    resolver.stop();
  });

  it('rate-limits early re-resolutions to one per minRefreshIntervalMs', async () => {
    const { resolver, lookup } = setup([ok('10.0.0.2')]);
    Object.assign(settings, { minRefreshIntervalMs: 200 });
    try {
      await resolver.first();
      for (let i = 0; i < 10; i++) resolver.resolveSoon();
      await new Promise((r) => setTimeout(r, 300));
      expect(lookup.lookup).toHaveBeenCalledTimes(2);
    } finally {
      Object.assign(settings, { minRefreshIntervalMs: 0 });
      resolver.stop();
    }
  });
});
