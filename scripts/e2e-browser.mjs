#!/usr/bin/env node
// Before `playwright test`: makes sure the end-to-end tests have a Chromium. Debian's Chromium
// (/usr/bin/chromium, or LLAVA_DESK_CHROMIUM) where present; otherwise Playwright's own build,
// installed with `playwright install chromium` when it is missing; one clear message when neither
// can be had. playwright.config.ts makes the same choice when the tests start.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium } from '@playwright/test';

const system = process.env.LLAVA_DESK_CHROMIUM ?? '/usr/bin/chromium';
if (existsSync(system) || existsSync(chromium.executablePath())) process.exit(0);

console.log(
  "e2e: no Chromium found; installing Playwright's build (npx playwright install chromium)",
);
const r = spawnSync('npx', ['playwright', 'install', 'chromium'], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'pipe'],
  shell: process.platform === 'win32',
});
if (r.status === 0 && existsSync(chromium.executablePath())) process.exit(0);
const why =
  `${r.stderr ?? ''}\n${r.stdout ?? ''}`
    .split('\n')
    .map((l) => l.trim())
    .find((l) => /^Error: /.test(l)) ?? `exit code ${r.status}`;
console.error(
  `e2e: No Chromium for the end-to-end tests, and Playwright could not install its own (${why}). ` +
    'Install one: `sudo apt-get install -y chromium` (Debian/Ubuntu), or run ' +
    '`npx playwright install chromium` where the internet is reachable, or point ' +
    'LLAVA_DESK_CHROMIUM at a Chromium binary.',
);
process.exit(1);
