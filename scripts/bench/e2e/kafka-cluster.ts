/**
 * The 3-broker KRaft cluster of `npm run bench:e2e` (scripts/kafka.sh cluster-*): started when it
 * does not answer (and then stopped at the end), nodes SIGKILLed and restarted by their pid files,
 * the active controller read from the nodes' Raft logs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './e2e.support';

const PORT = Number(process.env.KAFKA_CLUSTER_PORT ?? 19092);
const DIR = process.env.KAFKA_CLUSTER_DIR ?? join(ROOT, '.cache', 'kafka-cluster');
const KAFKA_SH = join(ROOT, 'scripts', 'kafka.sh');

export const CLUSTER_BROKERS = [1, 2, 3].map((n) => `127.0.0.1:${PORT + n - 1}`);

function answers(): boolean {
  return (
    spawnSync('kcat', ['-b', CLUSTER_BROKERS[0], '-L', '-m', '2'], {
      encoding: 'utf8',
      timeout: 5000,
    }).stdout?.includes('3 brokers') ?? false
  );
}

/** Starts the cluster unless it answers; returns whether this call started it. */
export function ensureCluster(): boolean {
  if (answers()) return false;
  execFileSync('bash', [KAFKA_SH, 'cluster-start'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 240_000,
  });
  return true;
}

export function stopCluster(): void {
  execFileSync('bash', [KAFKA_SH, 'cluster-stop'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 120_000,
  });
}

export function nodePid(node: number): number {
  return Number(readFileSync(join(DIR, `node-${node}`, 'kafka.pid'), 'utf8').trim());
}

export function killNode(node: number): void {
  process.kill(nodePid(node), 'SIGKILL');
}

export function startNode(node: number): void {
  execFileSync('bash', [KAFKA_SH, 'cluster-node-start', String(node)], {
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 60_000,
  });
}

/**
 * The active KRaft controller: the leader of the highest epoch any node's Raft log reports
 * (`Completed transition to Leader…` or `…FollowerState(… epoch=E, leader=L …)`).
 */
export function activeController(): number | undefined {
  let best: { epoch: number; leader: number } | undefined;
  for (const node of [1, 2, 3]) {
    const file = join(DIR, `node-${node}`, 'kafka.log');
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.includes('Completed transition to')) continue;
      const leader =
        /Completed transition to Leader\(localVoterNode=VoterNode\(voterKey=ReplicaKey\(id=(\d+).*?epoch=(\d+)/.exec(
          line,
        );
      const follower =
        /Completed transition to FollowerState\(fetchTimeoutMs=\d+, epoch=(\d+), leader=(\d+)/.exec(
          line,
        );
      const found = leader
        ? { leader: Number(leader[1]), epoch: Number(leader[2]) }
        : follower
          ? { epoch: Number(follower[1]), leader: Number(follower[2]) }
          : undefined;
      if (found && (!best || found.epoch >= best.epoch)) best = found;
    }
  }
  return best?.leader;
}
