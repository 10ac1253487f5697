// The npm registry reachable on the development machines lacks node-llama-cpp's macOS, Windows and
// riscv64 binary packages, so `npm install` there drops them from package-lock.json and `npm ci`
// then refuses the lock as out of sync. This restores their entries (platform-restricted optional
// packages: npm skips them on other platforms without fetching, and installs them where they fit).
// Run it after changing dependencies: `node scripts/complete-lockfile.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';

const PLATFORMS = {
  'linux-riscv64': { os: ['linux'], cpu: ['riscv64'] },
  'mac-arm64-metal': { os: ['darwin'], cpu: ['arm64', 'x64'] },
  'mac-x64': { os: ['darwin'], cpu: ['x64'] },
  'win-arm64': { os: ['win32'], cpu: ['arm64', 'x64'] },
  'win-x64': { os: ['win32'], cpu: ['x64'] },
  'win-x64-cuda': { os: ['win32'], cpu: ['x64'] },
  'win-x64-cuda-ext': { os: ['win32'], cpu: ['x64'] },
  'win-x64-vulkan': { os: ['win32'], cpu: ['x64'] },
};

const lockPath = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const nlc = lock.packages['node_modules/node-llama-cpp'];
if (!nlc) throw new Error('node-llama-cpp is not in package-lock.json');

let added = 0;
for (const [name, version] of Object.entries(nlc.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key]) continue;
  const platform = PLATFORMS[name.replace('@node-llama-cpp/', '')];
  if (!platform) throw new Error(`unknown node-llama-cpp platform package ${name}: add it here`);
  lock.packages[key] = {
    version,
    ...platform,
    license: 'MIT',
    optional: true,
    engines: { node: '>=20.0.0' },
  };
  added += 1;
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: ${added} platform entries restored`);
