import { DedupOptionsError } from '../../errors/dedup.errors';
import { resolveDedupOptions } from '../../dedup.options';
import { validateMemoryOptions } from './memory.options';

describe('memory store snapshot options', () => {
  it('resolves the snapshot settings with the module ttl and a 5 s default period', () => {
    expect(validateMemoryOptions({ snapshotPath: '/tmp/x' }, 'memory', 60_000)).toEqual({
      path: '/tmp/x',
      intervalMs: 5_000,
      ttl: 60_000,
    });
    expect(validateMemoryOptions(undefined, 'memory', 1)).toBeUndefined();
    expect(
      resolveDedupOptions({ ttl: 1_000, memory: { snapshotPath: 'a', snapshotIntervalMs: 0 } })
        .memory,
    ).toEqual({ path: 'a', intervalMs: 0, ttl: 1_000 });
  });

  it.each([
    [{ snapshotPath: '' }, 'memory.snapshotPath'],
    [{ snapshotPath: 'a', snapshotIntervalMs: -1 }, 'memory.snapshotIntervalMs'],
    [{ snapshotIntervalMs: 1_000 }, 'memory.snapshotIntervalMs'],
    [{ snapshotFile: 'a' }, 'memory.snapshotFile'],
  ])('fails the bootstrap on %j naming %s', (memory, name) => {
    expect(() => resolveDedupOptions({ memory: memory as never })).toThrow(DedupOptionsError);
    expect(() => resolveDedupOptions({ memory: memory as never })).toThrow(`"${name}"`);
  });

  it('refuses memory options with another store', () => {
    expect(() => resolveDedupOptions({ store: 'redis', memory: { snapshotPath: 'a' } })).toThrow(
      '"memory"',
    );
  });
});
