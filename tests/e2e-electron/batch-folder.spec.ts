import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { useRunningApp } from './support/launch.js';

const running = useRunningApp();
let folder: string;

test.beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'llava-desk-electron-folder-'));
});

test.afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

test('Choose… fills the Batch folder from the system chooser; cancelling changes nothing', async () => {
  const { app, page } = running();
  // The native dialog cannot be clicked by a test: its answers are stubbed in the main process.
  await app.evaluate(({ dialog }, chosen) => {
    const answers = [
      { canceled: false, filePaths: [chosen] },
      { canceled: true, filePaths: [] },
    ];
    dialog.showOpenDialog = (async () => answers.shift()) as typeof dialog.showOpenDialog;
  }, folder);

  await page.getByRole('button', { name: 'Batch' }).click();
  const dialog = page.getByRole('dialog', { name: 'Describe a folder' });
  const field = dialog.getByRole('textbox', { name: 'Folder' });
  const choose = dialog.getByRole('button', { name: 'Choose…' });
  await choose.click();
  await expect(field).toHaveValue(folder);
  await choose.click();
  await expect(field).toHaveValue(folder);
});
