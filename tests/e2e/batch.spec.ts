import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { corruptPng, pngFile } from './support/images.js';
import { SCREENSHOTS } from './support/page-input.js';
import { installTinyModel } from './support/tiny-model.js';
import { startWebHost, type RunningWebHost } from './support/web-host.js';

// The Batch view against web mode with the tiny model: a folder of three images, one corrupt.
test.describe.configure({ mode: 'serial' });

let host: RunningWebHost;
let page: Page;
let folder: string;
const problems: string[] = [];

test.beforeAll(async ({ browser }) => {
  folder = await mkdtemp(join(tmpdir(), 'llava-desk-e2e-batch-'));
  const files = await Promise.all([
    pngFile('gradient.png', 'gradient'),
    pngFile('stripes.png', 'stripes', 64, 96),
    corruptPng('broken.png'),
  ]);
  for (const file of files) {
    await writeFile(join(folder, file.name), Buffer.from(file.base64, 'base64'));
  }
  host = await startWebHost({ prepare: installTinyModel });
  page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(host.url);
  await expect(page.getByRole('combobox', { name: 'Model' })).toHaveValue('tiny-llava');
});

test.afterAll(async () => {
  await page?.close();
  await host?.stop();
  if (folder) await rm(folder, { recursive: true, force: true });
});

test('describe a folder: progress, descriptions, a failure with its reason, sidecars', async () => {
  await page.getByRole('button', { name: 'Batch' }).click();
  const dialog = page.getByRole('dialog', { name: 'Describe a folder' });
  await expect(dialog).toBeVisible();
  const start = dialog.getByRole('button', { name: 'Start' });
  await expect(start).toBeDisabled();
  // A browser page cannot show the system's folder chooser: the path is typed.
  await expect(dialog.getByText('The full path of a folder on this machine.')).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Choose…' })).toHaveCount(0);

  await dialog.getByRole('textbox', { name: 'Folder' }).fill(folder);
  await dialog.getByRole('radio', { name: 'A preset' }).check();
  await dialog.getByRole('combobox', { name: 'Preset' }).selectOption('caption');
  await expect(dialog.getByRole('checkbox', { name: '.txt sidecars' })).toBeChecked();
  await start.click();

  const bar = dialog.getByRole('progressbar', { name: 'Images described' });
  await expect(bar).toBeVisible();
  await expect(bar).toHaveAttribute('aria-valuemax', '3', { timeout: 30_000 });
  await expect(bar).toHaveAttribute('aria-valuenow', '3', { timeout: 45_000 });
  await expect(dialog.getByText('Done', { exact: true })).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Start' })).toBeEnabled();

  const items = dialog.getByRole('list', { name: 'Images' }).getByRole('listitem');
  await expect(items).toHaveCount(3);
  for (const name of ['gradient.png', 'stripes.png']) {
    const item = items.filter({ hasText: name });
    await expect(item).toHaveAttribute('data-state', 'done');
    await expect(item.getByRole('img', { name })).toBeVisible();
    await expect(item.locator('.text')).not.toBeEmpty();
  }
  const broken = items.filter({ hasText: 'broken.png' });
  await expect(broken).toHaveAttribute('data-state', 'failed');
  await expect(broken.getByText(/^Failed: .+/)).toBeVisible();
  await expect(page.getByText(/Batch done: 2 described, 0 skipped, 1 failed/)).toBeVisible();

  for (const name of ['gradient', 'stripes']) {
    const sidecar = join(folder, `${name}.txt`);
    expect(existsSync(sidecar)).toBe(true);
    expect((await readFile(sidecar, 'utf8')).trim()).not.toBe('');
  }
  expect(existsSync(join(folder, 'broken.txt'))).toBe(false);

  // Shown at the top of the list for the screenshots.
  await dialog.evaluate((element) => element.scrollTo(0, 0));
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.screenshot({ path: `${SCREENSHOTS}/batch-${colorScheme}.png` });
  }
  await page.emulateMedia({ colorScheme: 'light' });
});

/**
 * From now on, records the bar's value whenever the job's status line reads "Done" (a status
 * that flashes by is caught too, unlike a polled assertion).
 */
async function watchForDone(): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (globalThis as { doneSeenAt?: string[] }).doneSeenAt = seen;
    new MutationObserver(() => {
      const job = document.querySelector('section[aria-label="Batch progress"]');
      const says = [...(job?.querySelectorAll('.numbers span') ?? [])].some(
        (span) => span.textContent === 'Done',
      );
      const bar = job?.querySelector('[role="progressbar"]');
      if (says) seen.push(bar?.getAttribute('aria-valuenow') ?? 'no bar');
    }).observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
    });
  });
  return () => page.evaluate(() => (globalThis as { doneSeenAt?: string[] }).doneSeenAt ?? []);
}

test('starting the same folder again continues: described images are skipped', async () => {
  const dialog = page.getByRole('dialog', { name: 'Describe a folder' });
  const doneSeenAt = await watchForDone();
  await dialog.getByRole('button', { name: 'Start' }).click();
  const bar = dialog.getByRole('progressbar', { name: 'Images described' });
  await expect(dialog.getByText('2 skipped')).toBeVisible({ timeout: 45_000 });
  await expect(bar).toHaveAttribute('aria-valuenow', '3', { timeout: 45_000 });
  await expect(dialog.getByText('Done', { exact: true })).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Start' })).toBeEnabled();
  // "Done" only ever showed with every image counted, never left over from the last run.
  expect(new Set(await doneSeenAt())).toEqual(new Set(['3']));
  expect(problems).toEqual([]);
});

test('a folder that does not exist: a clear message, and the form stays usable', async () => {
  const dialog = page.getByRole('dialog', { name: 'Describe a folder' });
  const missing = join(folder, 'not-here');
  await dialog.getByRole('textbox', { name: 'Folder' }).fill(missing);
  await dialog.getByRole('button', { name: 'Start' }).click();
  await expect(dialog.getByRole('alert')).toContainText(`No folder at ${missing}`);
  await expect(dialog.getByText('Loading the model…')).toHaveCount(0);
  await expect(dialog.getByRole('button', { name: 'Start' })).toBeEnabled();
  expect(problems).toEqual([]);
});
