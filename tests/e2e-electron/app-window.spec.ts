import { fileURLToPath } from 'node:url';
import { _electron as electron, expect, test, type ElectronApplication } from '@playwright/test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findElectronBinary } from './electron-binary.js';

const executablePath = findElectronBinary();
const mainBundle = fileURLToPath(new URL('../../out/main/index.js', import.meta.url));

test.skip(executablePath === undefined, 'no Electron binary');

let app: ElectronApplication;
let dataDir: string;

test.beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'llava-desk-electron-'));
  app = await electron.launch({
    ...(executablePath ? { executablePath } : {}),
    args: [mainBundle],
    env: { ...process.env, LLAVA_DESK_HOME: dataDir },
  });
});

test.afterAll(async () => {
  await app?.close();
  await rm(dataDir, { recursive: true, force: true });
});

test('the desktop app opens one hardened window with the chat layout', async () => {
  const page = await app.firstWindow();
  await expect(page.getByRole('textbox', { name: 'Message' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'New chat' })).toBeVisible();
  const exposed = await page.evaluate(() => ({
    require: typeof (globalThis as { require?: unknown }).require,
    process: typeof (globalThis as { process?: unknown }).process,
  }));
  expect(exposed).toEqual({ require: 'undefined', process: 'undefined' });
  const windowCount = await app.evaluate(
    ({ BrowserWindow }) => BrowserWindow.getAllWindows().length,
  );
  expect(windowCount).toBe(1);
});

test('the window refuses to navigate away from the app', async () => {
  const page = await app.firstWindow();
  const before = page.url();
  await page.evaluate(() => {
    window.location.href = 'https://example.com/';
  });
  await page.waitForTimeout(500);
  expect(page.url()).toBe(before);
});
