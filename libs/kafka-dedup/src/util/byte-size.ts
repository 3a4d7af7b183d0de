/** Multipliers of the units {@link parseByteSize} accepts (SI kB/MB/GB, binary KiB/MiB/GiB/TiB). */
const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

const SIZE = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i;

/**
 * A byte count from a number of bytes or a string such as `'2GiB'`, `'512 MiB'`, `'1.5GB'`
 * (case-insensitive; `KiB`/`MiB`/`GiB`/`TiB` are powers of 1024, `kB`/`MB`/`GB`/`TB` of 1000, no
 * unit or `B` is bytes). Returns `undefined` for anything else, so the caller's error can name its
 * own option. Rounded down to whole bytes.
 * @internal
 * @example parseByteSize('2GiB') // 2147483648
 */
export function parseByteSize(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value > 0 ? Math.floor(value) : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const match = SIZE.exec(value);
  if (match === null) return undefined;
  const unit = UNITS[match[2] === '' ? 'b' : match[2].toLowerCase()];
  if (unit === undefined) return undefined;
  const bytes = Math.floor(Number(match[1]) * unit);
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : undefined;
}

/**
 * A byte count for people: `'56 MiB'`, `'1.5 GiB'` (binary units, at most one decimal, rounded
 * up so a size printed as a recommendation is never below what it stands for).
 * @internal
 */
export function formatByteSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = unit === 0 ? Math.ceil(value) : Math.ceil(value * 10) / 10;
  return `${shown} ${units[unit]}`;
}
