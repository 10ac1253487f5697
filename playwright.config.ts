import { existsSync } from 'node:fs';
import { chromium, defineConfig } from '@playwright/test';

/**
 * Browser choice: Debian's Chromium where it is installed (these machines cannot download
 * Playwright's own build), Playwright's Chromium elsewhere, and a clear stop when neither exists.
 */
function chromiumExecutable(): string | undefined {
  const system = process.env['LLAVA_DESK_CHROMIUM'] ?? '/usr/bin/chromium';
  if (existsSync(system)) return system;
  if (existsSync(chromium.executablePath())) return undefined;
  throw new Error(
    'No Chromium for the end-to-end tests. Install one: `sudo apt-get install -y chromium` ' +
      '(Debian/Ubuntu), or `npx playwright install chromium` where the internet is reachable, ' +
      'or point LLAVA_DESK_CHROMIUM at a Chromium binary.',
  );
}

const executablePath = chromiumExecutable();

export default defineConfig({
  outputDir: 'test-results/e2e',
  fullyParallel: false,
  workers: 1,
  forbidOnly: true,
  retries: 0,
  timeout: 60_000,
  reporter: [['list']],
  use: {
    viewport: { width: 1280, height: 800 },
    trace: 'retain-on-failure',
    launchOptions: {
      ...(executablePath ? { executablePath } : {}),
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  projects: [
    { name: 'chromium', testDir: 'tests/e2e', use: { browserName: 'chromium' } },
    // Runs the built desktop app where an Electron binary exists; skips with that reason elsewhere.
    { name: 'electron', testDir: 'tests/e2e-electron' },
  ],
});
