/* eslint-disable */
// Runs TypeScript sources in a child process WITH decorator metadata (tsx does not emit it, and Nest's
// dependency injection needs it): each .ts file is transpiled with TypeScript's transpileModule, and
// the package names are mapped to libs/*/src as in tsconfig `paths`. Usage: node -r <this file> x.ts
'use strict';
const Module = require('node:module');
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const ROOT = path.join(__dirname, '..', '..');
const PATHS = Object.fromEntries(
  ['kafka-dedup', 'grpc-pool', 'common'].map((lib) => [
    `@nest-resilience/${lib}`,
    path.join(ROOT, 'libs', lib, 'src'),
  ]),
);
const options = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  esModuleInterop: true,
  sourceMap: false,
};

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  for (const [name, dir] of Object.entries(PATHS)) {
    if (request === name) request = dir;
    else if (request.startsWith(`${name}/`))
      request = path.join(dir, request.slice(name.length + 1));
  }
  return resolve.call(this, request, parent, ...rest);
};

require.extensions['.ts'] = function (module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: options,
    fileName: filename,
  });
  module._compile(outputText, filename);
};
