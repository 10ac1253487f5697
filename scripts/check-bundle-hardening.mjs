// Fails when a built Electron bundle weakens the window hardening (run after `npm run build`).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const FORBIDDEN = [
  /nodeIntegration(InWorker|InSubFrames)?\s*:\s*(true|!0)/,
  /contextIsolation\s*:\s*(false|!1)/,
  /sandbox\s*:\s*(false|!1)/,
  /webSecurity\s*:\s*(false|!1)/,
  /allowRunningInsecureContent\s*:\s*(true|!0)/,
  /webviewTag\s*:\s*(true|!0)/,
  // The preload hands the page a fixed API, never ipcRenderer itself.
  /exposeInMainWorld\([^)]*\bipcRenderer\s*\)/,
];
const ROOTS = ['out/main', 'out/preload'];

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (/\.(c|m)?js$/.test(name)) yield path;
  }
}

let checked = 0;
const problems = [];
for (const root of ROOTS) {
  for (const file of files(root)) {
    checked += 1;
    const text = readFileSync(file, 'utf8');
    for (const pattern of FORBIDDEN) {
      const match = pattern.exec(text);
      if (match) problems.push(`${file}: ${match[0]}`);
    }
  }
}
if (checked === 0) {
  console.error('check-bundle-hardening: no bundles under out/: run `npm run build` first');
  process.exit(1);
}
if (problems.length > 0) {
  console.error(
    `check-bundle-hardening: insecure window options found:\n  ${problems.join('\n  ')}`,
  );
  process.exit(1);
}
console.log(`check-bundle-hardening: ${checked} bundle files, none weakens the window hardening`);
