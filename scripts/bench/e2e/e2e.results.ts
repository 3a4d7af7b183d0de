/** The shape of `bench/results/<date>.json`: what each part of `npm run bench:e2e` measured. */

/** The original design's estimate: 360 M ids held in process, ~36 GB. */
export const NOTE_IDS = 360_000_000;
export const NOTE_BYTES = 36e9;

/** CPU seconds of one measured window, by process group. */
export interface CpuSeconds {
  app: number;
  postgres: number;
  redis: number;
  total: number;
}

/** Part 1: one dedup configuration of the CDC handler (median round; spread over rounds). */
export interface CdcCpuRow {
  config: string;
  description: string;
  /** `false`: this configuration does not exist here (see `note`); no figures. */
  exists: boolean;
  note?: string;
  produced: number;
  unique: number;
  copies: number;
  eventsPerSec: number;
  cpu: CpuSeconds;
  /** CPU seconds (app + PostgreSQL + Redis) per 100,000 produced events, median of the rounds. */
  cpuPer100k: number;
  /** Smallest and largest of the rounds. */
  cpuPer100kRange: [number, number];
  /** Median over rounds of (this ÷ no dedup) in the same round. */
  cpuRatio: number | null;
  /** Each round's (this ÷ no dedup), in round order (absent in results written before it). */
  cpuRatios?: number[];
  rows: number;
  duplicateRows: number;
  rounds: number;
}

/** Part 2: N processes of one consumer group. */
export interface ScaleOutRow {
  store: 'redis' | 'inbox';
  processes: number;
  produced: number;
  eventsPerSec: number;
  rows: number;
  duplicateRows: number;
}

/** Part 3: one second of the HTTP load through one client configuration. */
export interface OutageSecond {
  client: string;
  second: number;
  phase: string;
  sent: number;
  ok: number;
  successRate: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

/** Part 3: one phase of the fault schedule through one client configuration. */
export interface OutagePhase {
  client: string;
  phase: string;
  sent: number;
  ok: number;
  successRate: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

/** Part 4: the broker failover run. */
export interface FailoverResult {
  /** `false`: the cluster could not run here (see `note`). */
  ran: boolean;
  note?: string;
  produced: number;
  acknowledged: number;
  sendErrors: number;
  rows: number;
  distinctRows: number;
  lost: number;
  lostIds: string[];
  /** Of the lost: still in the topic (consumed past without a row); the rest are gone from the log. */
  lostInTopic: number;
  /** Distinct records in the topic at the end (read back with kcat). */
  recordsInTopic: number;
  duplicates: number;
  /** Longest time with no row written while records were waiting, over the run. */
  stallSeconds: number;
  faults: { what: string; node: number; atSecond: number; stallSeconds: number }[];
  /**
   * Over time, for the chart: records handled by the app (`rows`: written, or skipped as
   * duplicates of a redelivery) and acknowledged to the producer.
   */
  progress: { second: number; rows: number; acknowledged: number }[];
}

/** Part 5: resident memory of the app holding `ids` live ids. */
export interface MemoryRow {
  config: 'memory store' | 'lru-cache';
  ids: number;
  rssBytes: number;
  /** Resident memory of the same app without deduplication (a process of its own). */
  baselineRssBytes: number;
  /** Resident memory of this process before the ids were added. */
  beforeIdsRssBytes: number;
  /** (RSS with the ids − RSS before them) ÷ ids: what the machine gives the process. */
  bytesPerId: number;
  /** The same from V8's heap used + external (typed arrays) after a full GC: what is live. */
  liveBytesPerId: number;
}

/** Everything one run measured. */
export interface E2eResults {
  date: string;
  size: 'quick' | 'full';
  seconds: number;
  machine: { cpus: number; node: string; memoryGb: number };
  cdcCpu: CdcCpuRow[];
  scaleOut: ScaleOutRow[];
  outage: {
    seconds: OutageSecond[];
    phases: OutagePhase[];
    ratePerSec: number;
    schedule: string[];
  };
  failover: FailoverResult;
  memory: { rows: MemoryRow[]; extrapolated360M: Record<string, number> };
}
