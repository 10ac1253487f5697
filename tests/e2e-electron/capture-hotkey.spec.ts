import { expect, test, type Page } from '@playwright/test';
import { finishedAnswer, invoke, useRunningApp } from './support/launch.js';

const running = useRunningApp({ tinyModel: true, timeoutMs: 180_000 });

async function nextWindow(pathEnd: string): Promise<Page> {
  const { app } = running();
  const existing = app.windows().find((w) => w.url().endsWith(pathEnd));
  return existing ?? app.waitForEvent('window', { predicate: (w) => w.url().endsWith(pathEnd) });
}

test('the capture shortcut is registered (or its failure explained)', async () => {
  const registered = await running().app.evaluate(({ globalShortcut }) =>
    globalShortcut.isRegistered('CommandOrControl+Shift+Space'),
  );
  // Wayland desktops may refuse global shortcuts; the app then shows the workaround instead.
  if (!registered) test.info().annotations.push({ type: 'note', description: 'shortcut refused' });
  const menuItem = await running().app.evaluate(({ Menu }) => {
    const item = Menu.getApplicationMenu()?.getMenuItemById('capture-region');
    return item ? { label: item.label, accelerator: item.accelerator ?? null } : null;
  });
  expect(menuItem?.label).toMatch(/Screen Region/);
});

test('hotkey flow: overlay, Esc cancels, Enter takes the display, ask streams, continue', async () => {
  const { app, page } = running();
  // Playwright cannot press an OS-wide shortcut: trigger the same action the shortcut runs.
  const trigger = (): Promise<void> =>
    app.evaluate(({ Menu }) => {
      Menu.getApplicationMenu()?.getMenuItemById('capture-region')?.click();
    });

  await trigger();
  const overlay = await nextWindow('/capture/overlay.html');
  await expect(overlay.locator('#hint')).toContainText('Esc');
  const noScripts = await overlay.evaluate(() => ({
    bridge: typeof (globalThis as { llavaDesk?: unknown }).llavaDesk,
  }));
  expect(noScripts.bridge).toBe('undefined');
  await overlay.keyboard.press('Escape');
  await expect
    .poll(() => app.windows().filter((w) => w.url().endsWith('/capture/overlay.html')).length)
    .toBe(0);

  await trigger();
  const again = await nextWindow('/capture/overlay.html');
  await again.keyboard.press('Enter');
  const ask = await nextWindow('/capture/ask.html');
  const crop = ask.locator('#crop');
  await expect(crop).toHaveAttribute('src', /^llava-image:\/\/[0-9a-f]{64}$/);
  await expect
    .poll(() => crop.evaluate((img) => (img as HTMLImageElement).naturalWidth))
    .toBeGreaterThan(0);
  const question = ask.getByRole('textbox', { name: 'Question' });
  await expect(question).toBeFocused();
  await question.fill('What is on the screen?');
  await question.press('Enter');
  await expect(ask.getByRole('log', { name: 'Answer' })).not.toBeEmpty({ timeout: 120_000 });

  const list = await invoke(page, 'chats.list');
  const [conversation] = (list.ok ? list.value : []) as Array<{ id: string }>;
  const answer = await finishedAnswer(page, conversation?.id ?? '');
  expect(answer.images).toBe(1);

  await ask.getByRole('button', { name: 'Continue in the main window' }).click();
  await expect
    .poll(() => app.windows().filter((w) => w.url().endsWith('/capture/ask.html')).length)
    .toBe(0);
  const focused = await app.evaluate(({ BrowserWindow }) =>
    BrowserWindow.getFocusedWindow()?.webContents.getURL(),
  );
  expect(focused).toBe('llava-desk://app/index.html');
});
