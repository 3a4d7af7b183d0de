/**
 * Optional peer dependencies (`ioredis`, `prom-client`, `pg`, …) are required on first use, not
 * imported at load time, so an app that does not use a feature does not need its package installed.
 */

/** The optional peer `name`, or `undefined` when it is not installed. @internal */
export function loadOptionalPeer<T>(name: string): T | undefined {
  try {
    return require(name) as T;
  } catch (error) {
    if (isNotFound(error, name)) return undefined;
    throw error;
  }
}

/** A package's access to its optional peers. @internal */
export interface OptionalPeers {
  /** The optional peer `name`, or `undefined` when it is not installed. */
  loadOptionalPeer<T>(name: string): T | undefined;
  /** The optional peer `name`; throws an error naming the package to install when it is missing. */
  requireOptionalPeer<T>(name: string, feature: string): T;
}

/**
 * The optional peers of the package `packageName`: a missing one is reported with that package's
 * name, the feature that needs it and the command that installs it.
 *
 * @example
 * export const { loadOptionalPeer, requireOptionalPeer } = optionalPeers('@nest-resilience/kafka-dedup');
 * const Redis = requireOptionalPeer<typeof import('ioredis')>('ioredis', 'the Redis dedup store');
 * @internal
 */
export function optionalPeers(packageName: string): OptionalPeers {
  return {
    loadOptionalPeer,
    requireOptionalPeer<T>(name: string, feature: string): T {
      const peer = loadOptionalPeer<T>(name);
      if (peer === undefined) {
        throw new Error(
          `${packageName}: ${feature} needs the optional peer dependency "${name}", which is not installed: npm install ${name}`,
        );
      }
      return peer;
    },
  };
}

function isNotFound(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  // Only the peer itself being absent counts; a missing file inside an installed peer is a real error.
  return code === 'MODULE_NOT_FOUND' && (message ?? '').includes(`'${name}'`);
}
