import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { readDesktopSettings } from '../../src-main/shell/desktop-settings.js';
import { invoke, launchApp, useRunningApp } from './support/launch.js';

const running = useRunningApp();

test('the desktop app opens one hardened window with the chat layout', async () => {
  const { app, page } = running();
  await expect(page.getByRole('textbox', { name: 'Message' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'New chat' })).toBeVisible();
  const exposed = await page.evaluate(() => ({
    require: typeof (globalThis as { require?: unknown }).require,
    process: typeof (globalThis as { process?: unknown }).process,
    bridge: Object.keys((globalThis as { llavaDesk?: object }).llavaDesk ?? {}).sort(),
  }));
  expect(exposed).toEqual({
    require: 'undefined',
    process: 'undefined',
    bridge: ['getPathForFile', 'invoke', 'on', 'platform'],
  });
  expect(page.url()).toBe('llava-desk://app/index.html');
  const windowCount = await app.evaluate(
    ({ BrowserWindow }) => BrowserWindow.getAllWindows().length,
  );
  expect(windowCount).toBe(1);
});

test('the API answers through the preload and refuses what the contract lacks', async () => {
  const { page, dataDir } = running();
  const info = await invoke(page, 'app.info');
  expect(info).toMatchObject({ ok: true, value: { mode: 'electron', dataDir } });
  expect(await invoke(page, 'shell.openPath', { path: '/' })).toMatchObject({ ok: false });
  expect(await invoke(page, 'chats.get', { id: '../../etc' })).toMatchObject({
    ok: false,
    error: { code: 'INVALID_ARGUMENT' },
  });
});

test('the pages carry a strict CSP header and cannot reach the network', async () => {
  const { page } = running();
  const csp = await page.evaluate(async () => {
    const response = await fetch('llava-desk://app/index.html');
    return response.headers.get('content-security-policy');
  });
  expect(csp).toContain("script-src 'self'");
  const remote = await page.evaluate(() =>
    fetch('https://example.com/').then(
      () => 'reached',
      () => 'blocked',
    ),
  );
  expect(remote).toBe('blocked');
});

test('the window refuses to navigate away from the app', async () => {
  const { app, page } = running();
  const before = page.url();
  // Listen in the main process, after the window's guard: the guard's refusal is the event's
  // defaultPrevented, read once the navigation was asked for (no waiting for "nothing").
  await app.evaluate(({ BrowserWindow }) => {
    const contents = BrowserWindow.getAllWindows()[0]?.webContents;
    if (!contents) throw new Error('no window');
    (globalThis as { navigationSeen?: Promise<unknown> }).navigationSeen = new Promise((resolve) =>
      contents.once('will-navigate', (event) =>
        resolve({ url: event.url, refused: event.defaultPrevented }),
      ),
    );
  });
  await page.evaluate(() => {
    window.location.href = 'https://example.com/';
  });
  const seen = await app.evaluate(
    () => (globalThis as { navigationSeen?: Promise<unknown> }).navigationSeen,
  );
  expect(seen).toEqual({ url: 'https://example.com/', refused: true });
  expect(page.url()).toBe(before);
});

test('new windows are denied', async () => {
  const { app, page } = running();
  // window.open returns null exactly when the main process's window-open handler denied it.
  const refused = await page.evaluate(() => window.open('llava-desk://app/index.html') === null);
  expect(refused).toBe(true);
  expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
});

test('the window remembers its size across restarts', async () => {
  const first = await launchApp();
  await first.app.evaluate(({ BrowserWindow }) =>
    BrowserWindow.getAllWindows()[0]?.setBounds({ width: 1000, height: 700 }),
  );
  // Saved once the resize settles: wait for the file, not for a fixed time.
  const saved = join(first.dataDir, 'desktop.json');
  await expect
    .poll(async () => {
      const text = await readFile(saved, 'utf8').catch(() => '{}');
      const { window } = readDesktopSettings(JSON.parse(text));
      return window && [window.width, window.height];
    })
    .toEqual([1000, 700]);
  await first.app.close();
  const again = await launchApp({ dataDir: first.dataDir });
  try {
    const size = await again.app.evaluate(({ BrowserWindow }) =>
      BrowserWindow.getAllWindows()[0]?.getSize(),
    );
    expect(size).toEqual([1000, 700]);
  } finally {
    await again.close();
  }
});
