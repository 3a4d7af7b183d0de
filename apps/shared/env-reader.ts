/** One problem with one environment variable. */
export interface EnvProblem {
  variable: string;
  value: string | undefined;
  expected: string;
}

/**
 * Reads typed values out of an environment and collects every problem, so a bad start names all
 * the wrong variables at once instead of the first one.
 */
export class EnvReader {
  readonly problems: EnvProblem[] = [];

  constructor(private readonly env: Record<string, unknown>) {}

  raw(name: string): string | undefined {
    const value = this.env[name];
    if (value === undefined || value === null || value === '') return undefined;
    return String(value).trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      this.fail(name, value, `an integer from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  oneOf<const T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      this.fail(name, value, `one of ${allowed.join(', ')}`);
      return fallback;
    }
    return value as T;
  }

  /** A comma-separated list of `host:port` addresses. */
  addresses(name: string, fallback: string): string[] {
    const value = this.raw(name) ?? fallback;
    const list = value.split(',').map((a) => a.trim());
    if (list.some((a) => !/^[\w.-]+:\d{1,5}$/.test(a))) {
      this.fail(name, value, 'a comma-separated list of host:port');
    }
    return list;
  }

  url(name: string, protocols: readonly string[]): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    let ok = false;
    try {
      ok = protocols.includes(new URL(value).protocol);
    } catch {
      ok = false;
    }
    if (!ok) this.fail(name, redactUrl(value), `a URL (${protocols.join(' or ')})`);
    return value;
  }

  fail(variable: string, value: string | undefined, expected: string): void {
    this.problems.push({ variable, value, expected });
  }
}

/** Thrown at bootstrap when the environment is wrong; the message names every bad variable. */
export class InvalidEnvironmentError extends Error {
  constructor(
    readonly app: string,
    readonly problems: EnvProblem[],
  ) {
    super(
      `${app}: invalid environment: ` +
        problems
          .map((p) => `${p.variable}=${JSON.stringify(p.value ?? '')} (expected ${p.expected})`)
          .join('; '),
    );
    this.name = 'InvalidEnvironmentError';
  }
}

/** A URL without its password, for error messages. */
function redactUrl(value: string): string {
  return value.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}
