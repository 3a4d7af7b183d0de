import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Absolute path of a file the apps read at run time (a `.proto`, the migrations folder), given
 * relative to the repository root. Looked up from this file's folder upwards, so the same call
 * works from the sources (ts-jest), from `dist/` after `nest build`, and in the Docker image,
 * which copies `apps/proto` and the migrations next to `dist/`.
 *
 * @example repoFile('apps/proto/auth.proto')
 */
export function repoFile(relativePath: string, from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, relativePath);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`${relativePath} not found above ${from}`);
  }
}
