import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { changedTags, exiftoolX } from '../support/metadata-readers.js';
import { pngFile } from './support/images.js';
import { SCREENSHOTS } from './support/page-input.js';
import { installTinyModel } from './support/tiny-model.js';
import { startWebHost, type RunningWebHost } from './support/web-host.js';

// The Batch view's XMP and embedding options, in web mode with the tiny model: a folder where
// Lightroom already wrote gradient.xmp.
test.describe.configure({ mode: 'serial' });

const FIXTURES = fileURLToPath(new URL('../fixtures/xmp/', import.meta.url));
let host: RunningWebHost;
let page: Page;
let folder: string;
const problems: string[] = [];

test.beforeAll(async ({ browser }) => {
  folder = await mkdtemp(join(tmpdir(), 'llava-desk-e2e-batch-xmp-'));
  for (const file of [
    await pngFile('gradient.png', 'gradient'),
    await pngFile('stripes.png', 'stripes'),
  ]) {
    await writeFile(join(folder, file.name), Buffer.from(file.base64, 'base64'));
  }
  await copyFile(join(FIXTURES, 'lightroom.xmp'), join(folder, 'gradient.xmp'));
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

test('XMP sidecars named photo.xmp, merged; images written only after the warning is accepted', async () => {
  const lightroomBefore = await exiftoolX(join(folder, 'gradient.xmp'));
  await page.getByRole('button', { name: 'Batch' }).click();
  const dialog = page.getByRole('dialog', { name: 'Describe a folder' });
  await dialog.getByRole('textbox', { name: 'Folder' }).fill(folder);
  await dialog.getByRole('combobox', { name: 'Preset' }).selectOption('keywords');
  await dialog.getByRole('combobox', { name: 'Keyword case' }).selectOption('lower');
  await dialog.getByRole('checkbox', { name: '.txt sidecars' }).uncheck();
  // The naming choice shows with the XMP output.
  await expect(dialog.getByRole('combobox', { name: 'XMP sidecar name' })).toHaveCount(0);
  await dialog.getByRole('checkbox', { name: 'XMP sidecars' }).check();
  await dialog
    .getByRole('combobox', { name: 'XMP sidecar name' })
    .selectOption({ label: 'photo.xmp (Lightroom, Capture One)' });

  const start = dialog.getByRole('button', { name: 'Start' });
  await expect(start).toBeEnabled();
  await dialog.getByRole('checkbox', { name: 'Also write into the image files' }).check();
  const warning = dialog.getByRole('group', { name: 'Writing into images' });
  await expect(warning).toContainText('This changes your image files');
  await expect(warning.getByRole('checkbox', { name: /Keep the originals/ })).toBeChecked();
  await expect(start).toBeDisabled();
  await warning.getByRole('checkbox', { name: 'I understand: change my image files' }).check();
  await expect(start).toBeEnabled();
  await page.screenshot({ path: `${SCREENSHOTS}/batch-metadata-form.png` });
  await start.click();

  const bar = dialog.getByRole('progressbar', { name: 'Images described' });
  await expect(bar).toHaveAttribute('aria-valuenow', '2', { timeout: 60_000 });
  await expect(dialog.getByText('Done', { exact: true })).toBeVisible();
  await expect(page.getByText(/Batch done: 2 described, 0 skipped, 0 failed/)).toBeVisible();

  expect((await readdir(folder)).sort()).toEqual(
    [
      'gradient.png',
      'gradient.png_original',
      'gradient.xmp',
      'stripes.png',
      'stripes.png_original',
      'stripes.xmp',
    ].sort(),
  );
  const text =
    (await dialog.locator('.item', { hasText: 'gradient.png' }).locator('.text').textContent()) ??
    '';
  const lightroom = await exiftoolX(join(folder, 'gradient.xmp'));
  expect(lightroom.get('XMP-dc:Description')).toEqual([text]);
  expect(changedTags(lightroomBefore, lightroom, ['XMP-dc:Description', 'XMP-dc:Subject'])).toEqual(
    [],
  );
  expect((await exiftoolX(join(folder, 'gradient.png'))).get('XMP-dc:Description')).toEqual([text]);
  expect((await readFile(join(folder, 'stripes.xmp'), 'utf8')).length).toBeGreaterThan(0);
  expect(problems).toEqual([]);
});
