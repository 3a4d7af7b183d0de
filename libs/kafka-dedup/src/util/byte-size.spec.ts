import { formatByteSize, parseByteSize } from './byte-size';

describe('parseByteSize / formatByteSize', () => {
  it('reads bytes and binary or SI sizes, case-insensitively', () => {
    expect(parseByteSize(1_000)).toBe(1_000);
    expect(parseByteSize('2GiB')).toBe(2 * 2 ** 30);
    expect(parseByteSize('512 MiB')).toBe(512 * 2 ** 20);
    expect(parseByteSize('1.5GB')).toBe(1_500_000_000);
    expect(parseByteSize('64kib')).toBe(65_536);
    expect(parseByteSize('4096')).toBe(4_096);
    expect(parseByteSize('10B')).toBe(10);
  });

  it('refuses what is not a size', () => {
    for (const bad of [0, -1, NaN, Infinity, '', 'lots', '2 GiBs', '1e9', '-5MiB', {}, null, true])
      expect(parseByteSize(bad)).toBeUndefined();
  });

  it('prints sizes that read back to at least the same bytes', () => {
    expect(formatByteSize(20_388_608)).toBe('19.5 MiB');
    expect(formatByteSize(2 * 2 ** 30)).toBe('2 GiB');
    expect(formatByteSize(512)).toBe('512 B');
    for (const bytes of [1_234, 987_654_321, 58_720_256])
      expect(parseByteSize(formatByteSize(bytes))).toBeGreaterThanOrEqual(bytes);
  });
});
