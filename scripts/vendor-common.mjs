// Usage: node scripts/vendor-common.mjs libs/<lib>   (run by scripts/pack.sh after both builds)
//
// @nest-resilience/common is a private workspace package, never published. Each package's build
// leaves `require("@nest-resilience/common")` / `from '@nest-resilience/common'` in its dist; this
// copies the compiled common package into <lib>/dist/vendor/common and points every such specifier
// (JS and .d.ts) at that copy by a relative path, so the tarball needs nothing unpublished.
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

const NAME = '@nest-resilience/common';
const root = join(dirname(new URL(import.meta.url).pathname), '..');
const dist = join(root, process.argv[2], 'dist');
const vendor = join(dist, 'vendor', 'common');

const quoted = `(["'])${NAME.replace('/', '\\/')}\\1`;
const specifier = new RegExp(quoted, 'g');
const users = readdirSync(dist, { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile() && /\.(js|d\.ts)$/.test(entry.name))
  .map((entry) => join(entry.parentPath, entry.name))
  .filter((file) => new RegExp(quoted).test(readFileSync(file, 'utf8')));
if (users.length > 0) cpSync(join(root, 'libs', 'common', 'dist'), vendor, { recursive: true });
for (const file of users) {
  let target = relative(dirname(file), vendor).split(sep).join('/');
  if (!target.startsWith('.')) target = `./${target}`;
  const source = readFileSync(file, 'utf8').replace(
    specifier,
    (_, quote) => `${quote}${target}${quote}`,
  );
  // Only the package root is exported; a deep import would miss the vendored copy.
  if (new RegExp(`["']${NAME}/`).test(source)) {
    console.error(`[pack] ${relative(root, file)} imports a path inside ${NAME}`);
    process.exit(1);
  }
  writeFileSync(file, source);
}
console.log(
  `[pack] ${process.argv[2]}: ${users.length} files import ${NAME}, compiled into dist/vendor/common`,
);
