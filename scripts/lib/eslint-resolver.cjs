// Import resolver for eslint-plugin-boundaries (eslint-module-utils interface version 2): the
// sources import TypeScript files by their emitted names (`./x.js` for `./x.ts`, `./x.svelte.js`
// for `./x.svelte.ts`) or without an extension (the renderer), which the plain Node resolver cannot
// find. Relative imports are mapped to the file that exists; everything else (packages, node:
// built-ins) goes to eslint-import-resolver-node, so packages stay "external".
'use strict';

const { existsSync, statSync } = require('node:fs');
const { dirname, resolve } = require('node:path');
const nodeResolver = require('eslint-import-resolver-node');

const isFile = (path) => existsSync(path) && statSync(path).isFile();

function candidates(base) {
  const list = [base];
  if (base.endsWith('.js')) list.push(`${base.slice(0, -3)}.ts`);
  if (base.endsWith('.mjs')) list.push(`${base.slice(0, -4)}.mts`);
  list.push(`${base}.ts`, `${base}.js`, `${base}/index.ts`, `${base}/index.js`);
  return list;
}

module.exports = {
  interfaceVersion: 2,
  resolve(source, file, config) {
    if (source.startsWith('.') || source.startsWith('/')) {
      const base = resolve(dirname(file), source);
      const found = candidates(base).find(isFile);
      return found ? { found: true, path: found } : { found: false };
    }
    return nodeResolver.resolve(source, file, config);
  },
};
