import { promises as dns } from 'node:dns';

/** Outcome of one resolution: the `result` label of `grpc_pool_resolutions_total` (a bounded set). */
export type ResolutionResult = 'ok' | 'empty' | 'not_found' | 'timeout' | 'error';

/** Every {@link ResolutionResult}, to bind metric children once. @internal */
export const RESOLUTION_RESULTS: readonly ResolutionResult[] = [
  'ok',
  'empty',
  'not_found',
  'timeout',
  'error',
];

/** One resolution of a name: its addresses (IPv4 and IPv6 literals, sorted) or why there are none. @internal */
export interface Resolution {
  result: ResolutionResult;
  addresses: string[];
  /** The resolver's error (`ENOTFOUND …`), when the result is not `ok`. */
  error?: string;
}

/** Resolves a host name (faked in unit tests). @internal */
export interface HostLookup {
  lookup(host: string): Promise<Resolution>;
  /** Cancels the lookups in flight (they end with an error). */
  cancel(): void;
}

/**
 * A/AAAA lookups with `node:dns`'s Resolver (c-ares: it asks the DNS servers directly, unlike
 * getaddrinfo, so every record comes back and nothing is cached by the process). Both families are
 * asked in parallel; a family without records (ENODATA) is simply empty. @internal
 */
export class DnsLookup implements HostLookup {
  private readonly resolver: dns.Resolver;

  constructor(
    servers: string[] | undefined,
    private readonly timeoutMs: number,
  ) {
    this.resolver = new dns.Resolver({ timeout: timeoutMs, tries: 1 });
    if (servers !== undefined) this.resolver.setServers(servers);
  }

  async lookup(host: string): Promise<Resolution> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error('lookup timed out'), { code: 'ETIMEOUT' })),
        this.timeoutMs + 100,
      );
    });
    try {
      const [v4, v6] = await Promise.race([
        Promise.allSettled([this.resolver.resolve4(host), this.resolver.resolve6(host)]),
        timeout,
      ]);
      return combine(v4, v6);
    } catch (error) {
      return { result: 'timeout', addresses: [], error: describe(error) };
    } finally {
      clearTimeout(timer);
    }
  }

  cancel(): void {
    this.resolver.cancel();
  }
}

/** Merges the A and AAAA answers into one {@link Resolution}. @internal */
export function combine(
  v4: PromiseSettledResult<string[]>,
  v6: PromiseSettledResult<string[]>,
): Resolution {
  const addresses = [
    ...(v4.status === 'fulfilled' ? v4.value : []),
    ...(v6.status === 'fulfilled' ? v6.value : []),
  ];
  if (addresses.length > 0) return { result: 'ok', addresses: [...new Set(addresses)].sort() };
  const errors = [v4, v6].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  const codes = errors.map((e) => (e as { code?: string }).code);
  const error = errors.length > 0 ? errors.map(describe).join('; ') : 'no A or AAAA records';
  if (codes.includes('ENOTFOUND')) return { result: 'not_found', addresses: [], error };
  if (codes.every((c) => c === 'ENODATA')) return { result: 'empty', addresses: [], error };
  if (codes.includes('ETIMEOUT')) return { result: 'timeout', addresses: [], error };
  return { result: 'error', addresses: [], error };
}

function describe(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return e?.code ? `${e.code} (${e.message ?? ''})` : String(e?.message ?? error);
}
