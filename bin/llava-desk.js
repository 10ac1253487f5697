#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript compiled to dist/ by `npm install` (postinstall).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error(
    'llava-desk: the command-line tool is not built yet.\n' +
      'Run `npm install` (or `npm run build:node`) in the llava-desk folder, then try again.',
  );
  process.exit(4);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);
