import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Locator, type Page } from '@playwright/test';
import sharp from 'sharp';
import { installTinyModel } from './support/tiny-model.js';
import { startWebHost, type RunningWebHost } from './support/web-host.js';

// Pause, resume and cancel of a running batch in web mode, on folders large enough and answers
// long enough (the detailed preset: 256 tokens) that the tiny model's job is still running when
// the buttons are pressed.
test.describe.configure({ mode: 'serial' });

const IMAGES = 48;
let host: RunningWebHost;
let page: Page;
let root: string;
const problems: string[] = [];

async function makeFolder(name: string): Promise<string> {
  const folder = join(root, name);
  await rm(folder, { recursive: true, force: true });
  await mkdir(folder);
  for (let i = 0; i < IMAGES; i++) {
    const png = await sharp({
      create: {
        width: 24,
        height: 24,
        channels: 3,
        background: { r: i * 5, g: 255 - i * 5, b: 90 },
      },
    })
      .png()
      .toBuffer();
    await writeFile(join(folder, `image-${String(i).padStart(2, '0')}.png`), png);
  }
  return folder;
}

async function sidecars(folder: string): Promise<number> {
  return (await readdir(folder)).filter((name) => name.endsWith('.txt')).length;
}

async function described(bar: Locator): Promise<number> {
  return Number(await bar.getAttribute('aria-valuenow'));
}

/** Starts the detailed preset on a new folder and returns once the first image is described. */
async function startRunningJob(
  name: string,
): Promise<{ folder: string; dialog: Locator; bar: Locator }> {
  const folder = await makeFolder(name);
  const dialog = page.getByRole('dialog', { name: 'Describe a folder' });
  await dialog.getByRole('textbox', { name: 'Folder' }).fill(folder);
  await dialog.getByRole('combobox', { name: 'Preset' }).selectOption('detailed');
  await dialog.getByRole('button', { name: 'Start' }).click();
  const bar = dialog.getByRole('progressbar', { name: 'Images described' });
  await expect.poll(() => described(bar), { timeout: 30_000 }).toBeGreaterThan(0);
  return { folder, dialog, bar };
}

test.beforeAll(async ({ browser }) => {
  root = await mkdtemp(join(tmpdir(), 'llava-desk-e2e-batch-control-'));
  host = await startWebHost({ prepare: installTinyModel });
  page = await (await browser.newContext()).newPage();
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(host.url);
  await expect(page.getByRole('combobox', { name: 'Model' })).toHaveValue('tiny-llava');
  await page.getByRole('button', { name: 'Batch' }).click();
});

test.afterAll(async () => {
  await page?.close();
  await host?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

test('Pause holds the job between images and Resume finishes it', async () => {
  const { folder, dialog, bar } = await startRunningJob('pause');
  await dialog.getByRole('button', { name: 'Pause' }).click();
  // "Paused" shows once the job holds: what the images in flight had finished is written by
  // then, and the bar counts exactly the sidecars on disk.
  await expect(dialog.getByText('Paused', { exact: true })).toBeVisible();
  const atPause = await described(bar);
  expect(atPause).toBeLessThan(IMAGES);
  const filesAtPause = await sidecars(folder);
  expect(filesAtPause).toBe(atPause);
  // Nothing moves while paused: no progress, no new sidecars.
  await page.waitForTimeout(1500);
  expect(await described(bar)).toBe(atPause);
  expect(await sidecars(folder)).toBe(filesAtPause);

  await dialog.getByRole('button', { name: 'Resume' }).click();
  await expect(bar).toHaveAttribute('aria-valuenow', String(IMAGES), { timeout: 60_000 });
  await expect(dialog.getByText('Done', { exact: true })).toBeVisible();
  expect(await sidecars(folder)).toBe(IMAGES);
});

test('Cancel stops the job, keeps what is done, and Start continues from there', async () => {
  const { folder, dialog } = await startRunningJob('cancel');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(
    dialog.getByText('Cancelled. Start again to continue where it stopped.'),
  ).toBeVisible();
  await expect(
    page.getByText(/^Batch cancelled: \d+ described\. Start again to continue\./),
  ).toBeVisible();
  const kept = await sidecars(folder);
  expect(kept).toBeGreaterThan(0);
  expect(kept).toBeLessThan(IMAGES);

  await dialog
    .getByRole('combobox', { name: 'Sidecars already there' })
    .selectOption({ label: 'Keep them, skip the image' });
  await dialog.getByRole('button', { name: 'Start' }).click();
  await expect(dialog.getByText('Done', { exact: true })).toBeVisible({ timeout: 60_000 });
  await expect(dialog.getByText(`${kept} skipped`)).toBeVisible();
  expect(await sidecars(folder)).toBe(IMAGES);
  expect(problems).toEqual([]);
});
