import { Logger } from '@nestjs/common';
import type { PoolConnection } from '../connection/pool-connection';
import type { DiscoveryMetrics } from './discovery.metrics';
import { EndpointSet, type ConnectionList } from './endpoint-set';

interface FakeConnection {
  index: number;
  target: string;
  inFlight: number;
  closed: boolean;
  connect(): void;
  close(): void;
}

function setup(perAddress = 2, drainTimeoutMs = 10_000) {
  let all: PoolConnection[] = [];
  const connections: ConnectionList = {
    get all() {
      return all;
    },
    openTo: (index, target) =>
      ({
        index,
        target,
        inFlight: 0,
        closed: false,
        connect() {},
        close() {
          this.closed = true;
        },
      }) satisfies FakeConnection as unknown as PoolConnection,
    add: (c) => (all = [...all, c]),
    remove: (c) => (all = all.filter((x) => x !== c)),
  };
  const metrics = { counts: jest.fn(), forget: jest.fn() } as unknown as DiscoveryMetrics;
  const logger = new Logger('test');
  jest.spyOn(logger, 'log').mockImplementation(() => undefined);
  const set = new EndpointSet(
    { connections, changed: () => undefined, logger, metrics },
    { perAddress, warmupTimeoutMs: 100, slowStartMs: 0, decayMs: 2_000, drainTimeoutMs },
  );
  const fakes = () => connections.all as unknown as FakeConnection[];
  return { set, connections, fakes, metrics };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('EndpointSet', () => {
  it('opens perAddress connections per address, with the lowest free indexes', () => {
    const { set, fakes } = setup(2);
    set.apply(['ipv4:10.0.0.2:1', 'ipv4:10.0.0.3:1'], false);
    expect(fakes().map((c) => `${c.index}:${c.target}`)).toEqual([
      '0:ipv4:10.0.0.2:1',
      '1:ipv4:10.0.0.2:1',
      '2:ipv4:10.0.0.3:1',
      '3:ipv4:10.0.0.3:1',
    ]);
    expect(set.report()).toEqual([
      { address: '10.0.0.2:1', state: 'active', connections: 2 },
      { address: '10.0.0.3:1', state: 'active', connections: 2 },
    ]);
  });

  it('takes a removed address out of the picker at once, closes it once its calls finished', async () => {
    const { set, fakes } = setup(1);
    set.apply(['ipv4:10.0.0.2:1', 'ipv4:10.0.0.3:1'], false);
    const leaving = fakes()[0];
    leaving.inFlight = 1;
    set.apply(['ipv4:10.0.0.3:1'], false);
    expect(fakes().map((c) => c.target)).toEqual(['ipv4:10.0.0.3:1']);
    expect(set.drainingCount).toBe(1);
    await wait(250);
    expect(leaving.closed).toBe(false); // its call is still in flight
    leaving.inFlight = 0;
    await wait(250);
    expect(leaving.closed).toBe(true);
    expect(set.drainingCount).toBe(0);
    // The freed index is reused by the next address: metric labels stay bounded.
    set.apply(['ipv4:10.0.0.3:1', 'ipv4:10.0.0.4:1'], false);
    expect(fakes().find((c) => c.target === 'ipv4:10.0.0.4:1')?.index).toBe(0);
    set.close();
  });

  it('closes a draining connection after drainTimeoutMs even with calls in flight', async () => {
    const { set, fakes } = setup(1, 150);
    set.apply(['ipv4:10.0.0.2:1', 'ipv4:10.0.0.3:1'], false);
    const leaving = fakes()[0];
    leaving.inFlight = 3;
    set.apply(['ipv4:10.0.0.3:1'], false);
    await wait(400);
    expect(leaving.closed).toBe(true);
  });

  it('grows an address and drains its least busy connections, never its last one', async () => {
    const { set, fakes } = setup(1);
    set.apply(['ipv4:10.0.0.2:1'], false);
    set.grow('ipv4:10.0.0.2:1', 3);
    expect(fakes()).toHaveLength(4);
    fakes()[0].inFlight = 5;
    set.shrink('ipv4:10.0.0.2:1', 10);
    expect(fakes()).toHaveLength(1);
    expect(fakes()[0].inFlight).toBe(5);
    expect(set.drainingCount).toBe(3);
    set.close();
  });
});
