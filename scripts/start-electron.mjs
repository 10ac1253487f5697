#!/usr/bin/env node
// `npm start` / `npm run dev`: checks Node, fetches Electron's binary when it is missing (through
// electron's own installer, scripts/lib/electron-binary.mjs), then runs electron-vite.
//
// Usage: node scripts/start-electron.mjs <preview|dev> [electron-vite arguments...]
// Run from the project folder (npm does): electron and electron-vite are resolved from there.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  ElectronDownloadError,
  downloadFailureMessage,
  ensureElectronBinary,
} from './lib/electron-binary.mjs';
import { requireNodeFor } from './lib/node-requirements.mjs';

const [mode, ...rest] = process.argv.slice(2);
if (mode !== 'preview' && mode !== 'dev') {
  console.error('usage: node scripts/start-electron.mjs <preview|dev> [electron-vite arguments]');
  process.exit(2);
}
const npmCommand = mode === 'dev' ? 'npm run dev' : 'npm start';
requireNodeFor('app');

const projectDir = process.cwd();
try {
  await ensureElectronBinary({ projectDir });
} catch (err) {
  if (!(err instanceof ElectronDownloadError)) throw err;
  console.error(downloadFailureMessage(err.reason, npmCommand));
  process.exit(1);
}

// electron-vite's own bin, as `npm start` ran it before (node_modules/.bin/electron-vite).
const require = createRequire(join(projectDir, 'package.json'));
const vitePkgPath = require.resolve('electron-vite/package.json');
const vitePkg = JSON.parse(readFileSync(vitePkgPath, 'utf8'));
const bin = typeof vitePkg.bin === 'string' ? vitePkg.bin : vitePkg.bin['electron-vite'];
const child = spawn(process.execPath, [join(vitePkgPath, '..', bin), mode, ...rest], {
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
