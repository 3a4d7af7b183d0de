import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');
const checked = new Set<string>();

/** Compiled entry points of the two apps (what `nest build <app>` writes). */
export const APP_MAIN = {
  'user-service': join(ROOT, 'dist/apps/user-service/apps/user-service/src/main.js'),
  'auth-service': join(ROOT, 'dist/apps/auth-service/apps/auth-service/src/main.js'),
} as const;

/**
 * Builds an app with `nest build` when its output is missing or older than a source of apps/ or
 * libs/ (the suites run real processes of the compiled apps). Type errors elsewhere in the tree do
 * not stop tsc from emitting, so only a missing output fails.
 */
export function ensureBuilt(app: keyof typeof APP_MAIN): string {
  const main = APP_MAIN[app];
  // once per suite: a restart mid-test must not run a (synchronous) build that stalls the suite
  if (checked.has(app)) return main;
  checked.add(app);
  const built = existsSync(main) ? statSync(main).mtimeMs : 0;
  if (built < newest(join(ROOT, 'apps')) || built < newest(join(ROOT, 'libs'))) {
    try {
      execFileSync(join(ROOT, 'node_modules/.bin/nest'), ['build', app], {
        cwd: ROOT,
        stdio: 'pipe',
        timeout: 180_000,
      });
    } catch (error) {
      if (!existsSync(main)) throw new Error(`nest build ${app} failed: ${String(error)}`);
    }
  }
  return main;
}

function newest(dir: string): number {
  let max = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    max = Math.max(max, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return max;
}
