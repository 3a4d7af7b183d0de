/** How big a run of `npm run bench:e2e` is: `--quick` (or BENCH_E2E_SIZE=quick) for a smoke run. */
export interface E2eSize {
  name: 'quick' | 'full';
  /** Part 1: produced records per configuration (about 1/6 of them redelivered copies). */
  cdcEvents: number;
  /** Part 1: rounds of every configuration (`--rounds N`); one round alone moves a ratio by ±0.1. */
  cdcRounds: number;
  /** Part 2: produced records per group size. */
  scaleOutEvents: number;
  /** Part 3: requests per second, and the length of each phase in seconds. */
  outageRate: number;
  outagePhaseSeconds: number;
  /** Part 4: records produced through the failovers, and over how many seconds. */
  failoverEvents: number;
  failoverSeconds: number;
  /** Part 5: live ids. */
  memoryIds: number[];
}

export const SIZES: Record<'quick' | 'full', E2eSize> = {
  quick: {
    name: 'quick',
    cdcEvents: 6_000,
    cdcRounds: 1,
    scaleOutEvents: 3_000,
    outageRate: 40,
    outagePhaseSeconds: 3,
    failoverEvents: 3_000,
    failoverSeconds: 30,
    memoryIds: [100_000, 300_000],
  },
  full: {
    name: 'full',
    cdcEvents: 100_000,
    cdcRounds: 3,
    scaleOutEvents: 20_000,
    outageRate: 100,
    outagePhaseSeconds: 6,
    failoverEvents: 30_000,
    failoverSeconds: 60,
    memoryIds: [1_000_000, 5_000_000],
  },
};

/** The size from the command line (`--quick`) or BENCH_E2E_SIZE. */
export function sizeFrom(argv: string[], env: NodeJS.ProcessEnv): E2eSize {
  const name = argv.includes('--quick') ? 'quick' : (env.BENCH_E2E_SIZE ?? 'full');
  if (name !== 'quick' && name !== 'full')
    throw new Error(`BENCH_E2E_SIZE="${name}" (expected quick or full)`);
  const size = { ...SIZES[name] };
  const rounds = argv.indexOf('--rounds');
  if (rounds >= 0) size.cdcRounds = Math.max(1, Number(argv[rounds + 1]) || 1);
  return size;
}
