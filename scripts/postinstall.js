// Runs after `npm install` / `npm ci` of this project: compiles the headless core (CLI, web host,
// engine worker) so `npx llava-desk` works straight after installing, and the native bridge.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const step = (label, cmd, args) => {
  console.log(`llava-desk: ${label}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) {
    console.error(`llava-desk: "${label}" failed (exit ${r.status}). See the messages above.`);
    process.exit(r.status ?? 1);
  }
};

if (!existsSync('node_modules/typescript')) {
  console.log('llava-desk: dev dependencies absent, skipping the build of the headless core');
} else {
  step('building the headless core (tsc)', 'npx', ['tsc', '-p', 'tsconfig.node.json']);
}
// The bridge to llama.cpp's multimodal library: without it no image can be read by a model.
step('building the native multimodal bridge', process.execPath, ['scripts/build-native.mjs']);
