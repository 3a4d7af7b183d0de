/** What `npm run demo` measured (the `--json` line, with `invariantsOk`). */
export interface DemoReport {
  eventsProduced: number;
  uniqueEvents: number;
  duplicatesProduced: number;
  duplicatesSkipped: number;
  userEventRows: number;
  distinctUserEventRows: number;
  httpRequests: number;
  httpOk: number;
  httpFailed: number;
  http404BeforeConsumed: number;
  authKills: number;
  /** VerifyToken calls each auth process answered (its own counter), by instance name. */
  callsByAuthProcess: Record<string, number>;
  authScaleUps: number;
  authRemovals: number;
  /** Calls the removed process got in the second before its SIGTERM (after the DNS grace). */
  removedAuthCallsAfterGrace: number;
  /** The pool's auth addresses at the end (`/health`): `ip:port state connections`. */
  authEndpointsAtEnd: string[];
  callsFailedOver: number;
  grpcRetries: number;
  ttlSweeps: number;
  liveIdsAtEnd: number;
  health: string;
  seconds: number;
}

/** The demo's invariants: each a name and whether it held. */
export function demoChecks(report: DemoReport): [string, boolean][] {
  const calls = Object.values(report.callsByAuthProcess);
  return [
    ['user_events rows == unique events', report.userEventRows === report.uniqueEvents],
    [
      'every unique event written (distinct positions == unique)',
      report.distinctUserEventRows === report.uniqueEvents,
    ],
    [
      'duplicates skipped == redelivered copies produced',
      report.duplicatesSkipped === report.duplicatesProduced,
    ],
    [
      'every auth process answered calls, auth-4 (added to DNS mid-run) included',
      report.authScaleUps === 1 && calls.length === 4 && calls.every((n) => n > 0),
    ],
    [
      'auth-2 got no call once out of DNS for refresh + TTL, before its SIGTERM',
      report.authRemovals === 1 && report.removedAuthCallsAfterGrace === 0,
    ],
    [
      'no HTTP request failed: auth killed, scaled up, auth-2 removed and SIGTERMed',
      report.httpFailed === 0 && report.httpRequests > 0,
    ],
    ['TTL sweeps ran and expired every id', report.ttlSweeps > 0 && report.liveIdsAtEnd === 0],
    ['/health ok at the end', report.health === 'ok'],
  ];
}

/**
 * Prints the report table (stderr with `--json`, whose stdout carries only the JSON line) and,
 * with `--json`, the JSON line. Returns whether every invariant held.
 */
export function printDemoReport(
  report: DemoReport,
  healthDetails: Record<string, { status: string }>,
  failures: Map<string, number>,
  json: boolean,
): boolean {
  const checks = demoChecks(report);
  const w = (label: string, value: unknown): string => `  ${label.padEnd(34)} ${String(value)}`;
  (json ? console.error : console.log)(
    [
      '',
      'user-service demo report',
      w(
        'events produced',
        `${report.eventsProduced} (${report.duplicatesProduced} redelivered copies)`,
      ),
      w('unique events', report.uniqueEvents),
      w('duplicates skipped (dedup)', report.duplicatesSkipped),
      w('user_events rows (database)', report.userEventRows),
      w(
        'HTTP GET /users/:id ok / failed',
        `${report.httpOk} / ${report.httpFailed} of ${report.httpRequests}`,
      ),
      w('auth processes SIGKILLed', report.authKills),
      w(
        'calls answered per auth process',
        Object.entries(report.callsByAuthProcess)
          .map(([k, n]) => `${k} ${n}`)
          .join(', '),
      ),
      w('auth-2 calls after its DNS grace', `${report.removedAuthCallsAfterGrace} (then SIGTERM)`),
      w('auth addresses in the pool at end', report.authEndpointsAtEnd.join(', ')),
      w(
        'calls failed over (gRPC pool)',
        `${report.callsFailedOver} (retries ${report.grpcRetries})`,
      ),
      w('TTL sweeps run', `${report.ttlSweeps} (live ids at end: ${report.liveIdsAtEnd})`),
      w(
        '/health',
        `${report.health} (${Object.entries(healthDetails)
          .map(([k, v]) => `${k} ${v.status}`)
          .join(', ')})`,
      ),
      w('took', `${report.seconds}s`),
      '',
      ...checks.map(([name, ok]) => `  ${ok ? 'PASS' : 'FAIL'} ${name}`),
      ...(failures.size
        ? ['  HTTP failures:', ...[...failures].map(([k, n]) => `    ${n} × ${k}`)]
        : []),
    ].join('\n'),
  );
  const ok = checks.every(([, passed]) => passed);
  if (json) console.log(JSON.stringify({ ...report, invariantsOk: ok }));
  return ok;
}
