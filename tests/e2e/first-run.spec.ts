import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { sha256Hex, startFaultServer, type FaultServer } from '../support/fault-server.js';
import { pngFile } from './support/images.js';
import { dropFiles, SCREENSHOTS } from './support/page-input.js';
import { tinyPair, writeTestSettings } from './support/tiny-model.js';
import { startWebHost, type RunningWebHost } from './support/web-host.js';

// A first start with no model: the window guides to the catalog's default model, downloads it
// from a loopback server that behaves like the hub (slowly, to see progress, cancel and resume),
// and the first question works.
let server: FaultServer;
let host: RunningWebHost;

test.beforeAll(async () => {
  server = await startFaultServer();
  const pair = await tinyPair();
  const model = await readFile(pair.modelPath);
  const mmproj = await readFile(pair.mmprojPath);
  const slow = { chunkBytes: 8 * 1024, delayMs: 40 };
  const files = [
    { role: 'model', body: model, name: 'tiny-llava.gguf' },
    { role: 'mmproj', body: mmproj, name: 'mmproj-tiny-llava.gguf' },
  ].map((f) => ({
    role: f.role,
    uri: server.addHubFile('llava-desk/tiny-llava', f.name, {
      body: f.body,
      linkedSha256: sha256Hex(f.body),
      slow,
    }),
    sizeBytes: f.body.length,
    sizeExact: true,
  }));
  host = await startWebHost({
    prepare: async (dataDir) => {
      const catalog = {
        schemaVersion: 1,
        models: [
          {
            id: 'tiny-llava-q8',
            displayName: 'Tiny LLaVA test model',
            family: 'llava-1.5',
            parameters: '1M',
            quantization: 'F16',
            promptTemplate: 'vicuna_v1',
            default: true,
            license: 'mit',
            files,
            memory: { cpuRamBytes: 50_000_000, minTotalRamBytes: 100_000_000 },
            source: 'generated for the tests',
          },
        ],
      };
      await writeFile(join(dataDir, 'catalog.json'), JSON.stringify(catalog));
      await writeTestSettings(dataDir);
    },
    env: (dataDir) => ({
      LLAVA_DESK_CATALOG: join(dataDir, 'catalog.json'),
      LLAVA_DESK_HF_BASE_URL: server.hfBaseUrl,
      LLAVA_DESK_RETRY_BASE_MS: '10',
    }),
  });
});

test.afterAll(async () => {
  await host?.stop();
  await server?.close();
});

test('first run: guided download with progress, cancel and resume, then a first answer', async ({
  page,
}) => {
  await page.goto(host.url);
  const firstRun = page.getByRole('region', { name: 'Download a model to start' });
  await expect(firstRun).toBeVisible();
  await expect(page.getByRole('button', { name: 'Send' })).toBeDisabled();
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.screenshot({ path: `${SCREENSHOTS}/first-run-${colorScheme}.png` });
  }
  await page.emulateMedia({ colorScheme: 'light' });

  await firstRun.getByRole('button', { name: 'Download Tiny LLaVA test model' }).click();
  const bar = page.getByRole('progressbar', { name: 'Downloading Tiny LLaVA test model' });
  await expect(bar).toBeVisible();
  // Bytes have arrived: the numbers show progress, speed and time left.
  await expect(firstRun.getByText(/^[1-9][\d.]* (kB|MB) of /)).toBeVisible();
  await expect(firstRun.getByText(/[1-9][\d.]* (kB|MB)\/s$/)).toBeVisible();
  await expect(firstRun.getByText(/left$/)).toBeVisible();
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.screenshot({ path: `${SCREENSHOTS}/download-progress-${colorScheme}.png` });
  }
  await page.emulateMedia({ colorScheme: 'light' });

  await firstRun.getByRole('button', { name: 'Cancel download' }).click();
  await expect(firstRun.getByText('Paused')).toBeVisible();
  await firstRun.getByRole('button', { name: 'Resume download' }).click();
  await expect(firstRun).toHaveCount(0, { timeout: 60_000 });
  await expect(page.getByRole('heading', { name: 'Ask about an image' })).toBeVisible();
  // The second request of a file resumed with a Range header.
  expect(server.requests.some((r) => r.range !== undefined && r.range !== 'bytes=0-')).toBe(true);

  await dropFiles(page, page.getByRole('main', { name: 'Chat' }), [
    await pngFile('photo.png', 'checker'),
  ]);
  await page.getByRole('textbox', { name: 'Message' }).fill('What is this?');
  await page.getByRole('button', { name: 'Send' }).click();
  const answer = page.getByRole('article', { name: 'Answer' });
  await expect(answer).toHaveAttribute('aria-busy', 'false', { timeout: 30_000 });
  await expect(answer.getByText(/tokens\/s/)).toBeVisible();
});
