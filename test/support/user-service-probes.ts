import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { Client } from 'pg';

/** A health endpoint's answer: HTTP status and terminus body. */
export interface Probe {
  status: number;
  body: {
    status: string;
    info?: Record<string, Record<string, unknown>>;
    error?: Record<string, Record<string, unknown>>;
    details: Record<string, Record<string, unknown> & { status: string }>;
  };
  ms: number;
}

/** GET `url` with a client-side timeout, as a kubelet probe does (`timeoutSeconds`). */
export async function probe(url: string, timeoutMs = 2_000): Promise<Probe> {
  const started = performance.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = (await res.json()) as Probe['body'];
  return { status: res.status, body, ms: performance.now() - started };
}

/** The `q` quantile (0..1) of `values` (nearest rank). */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

/** `users.v1.UserService/GetUser` on `port`; resolves with the error or the user. */
export function usersGrpcClient(port: number): {
  getUser(id: string): Promise<{ error: grpc.ServiceError | null; user?: Record<string, string> }>;
  close(): void;
} {
  const definition = protoLoader.loadSync(join(__dirname, '../../apps/proto/users.proto'), {
    keepCase: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    users: { v1: { UserService: grpc.ServiceClientConstructor } };
  };
  const client = new pkg.users.v1.UserService(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  );
  return {
    getUser: (id) =>
      new Promise((resolve) =>
        client.getUser(
          { id },
          { deadline: Date.now() + 5_000 },
          (error: grpc.ServiceError | null, user?: Record<string, string>) =>
            resolve({ error, user }),
        ),
      ),
    close: () => client.close(),
  };
}

/** Runs one query on `databaseUrl` and returns its rows. */
export async function query<T extends Record<string, unknown>>(
  databaseUrl: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Distinct changes written to `user_events` whose user id starts with `prefix`. */
export async function eventsWritten(databaseUrl: string, prefix: string): Promise<number> {
  const [row] = await query<{ n: string }>(
    databaseUrl,
    'SELECT count(DISTINCT (source_lsn, tx_id)) AS n FROM user_events WHERE user_id LIKE $1',
    [`${prefix}-%`],
  );
  return Number(row.n);
}
