/**
 * Optional peer dependencies (`prom-client`) are required on first use, not
 * imported at load time, so an app that does not use a feature does not need its package installed.
 */
const PACKAGE = '@nest-resilience/grpc-pool';

/** The optional peer `name`, or `undefined` when it is not installed. @internal */
export function loadOptionalPeer<T>(name: string): T | undefined {
  try {
    return require(name) as T;
  } catch (error) {
    if (isNotFound(error, name)) return undefined;
    throw error;
  }
}

/**
 * The optional peer `name`; throws an error naming the package to install when it is missing.
 * @internal
 */
export function requireOptionalPeer<T>(name: string, feature: string): T {
  const peer = loadOptionalPeer<T>(name);
  if (peer === undefined) {
    throw new Error(
      `${PACKAGE}: ${feature} needs the optional peer dependency "${name}", which is not installed: npm install ${name}`,
    );
  }
  return peer;
}

function isNotFound(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  // Only the peer itself being absent counts; a missing file inside an installed peer is a real error.
  return code === 'MODULE_NOT_FOUND' && (message ?? '').includes(`'${name}'`);
}
