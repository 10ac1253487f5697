import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { makeUnwritable } from './support/read-only.js';
import { installTinyModel, writeTestSettings } from './support/tiny-model.js';
import { startWebHost, type RunningWebHost } from './support/web-host.js';

// The data folder stops taking writes while an answer streams (a real read-only folder, not an
// injected error): the answer stays on screen, marked unsaved with the reason, and is saved once
// the folder is writable again; a write in a read-only folder says why in a message.
test.describe.configure({ mode: 'serial' });

let host: RunningWebHost;
let page: Page;
let restore: (() => Promise<void>) | undefined;

test.beforeAll(async ({ browser }) => {
  host = await startWebHost({
    prepare: async (dataDir) => {
      await installTinyModel(dataDir);
      // The longest answer allowed: it is surely still being written when the folder turns
      // read-only and Stop is pressed, however fast this machine is.
      await writeTestSettings(dataDir, { maxTokens: 32_768 });
    },
  });
  page = await (await browser.newContext()).newPage();
  await page.goto(host.url);
  await expect(page.getByRole('combobox', { name: 'Model' })).toHaveValue('tiny-llava');
});

test.afterAll(async () => {
  await restore?.();
  await page?.close();
  await host?.stop();
});

const answer = () => page.getByRole('article', { name: 'Answer' }).first();

test('an answer that cannot be saved stays on screen, says why, and is saved later', async () => {
  // The first answer loads the model; on a busy 2-core machine that alone can take a while.
  test.setTimeout(120_000);
  await page.getByRole('textbox', { name: 'Message' }).fill('Tell me a long story.');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(answer()).toHaveAttribute('aria-busy', 'true');
  await expect(answer().locator('.markdown')).not.toBeEmpty({ timeout: 30_000 });

  const undo = await makeUnwritable(join(host.dataDir, 'chats'));
  test.skip(typeof undo === 'string', typeof undo === 'string' ? undo : '');
  restore = undo as () => Promise<void>;

  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(answer()).toHaveAttribute('aria-busy', 'false');
  const reason = answer().getByRole('alert');
  await expect(reason).toContainText('could not be saved');
  await expect(reason).toContainText('saved as soon as the folder can be written again');
  const text = await answer().locator('.markdown').innerText();
  expect(text.length).toBeGreaterThan(0);

  // Another write while the folder is read-only: a message says why, without the errno.
  await page.getByRole('button', { name: 'New chat' }).click();
  const toast = page.getByRole('alert').filter({ hasText: 'Could not save' });
  await expect(toast).toBeVisible();
  await expect(toast).toContainText('read-only or not writable');
  await expect(toast).not.toContainText('EPERM');
  await expect(toast).not.toContainText(host.dataDir);

  // Writable again: the kept answer is saved (within the retry interval) and shows as stopped.
  await restore();
  restore = undefined;
  await expect(answer().getByText('Stopped — the answer is incomplete.')).toBeVisible({
    timeout: 15_000,
  });
  await expect(answer().getByRole('alert')).toHaveCount(0);
  await page.reload();
  await page
    .getByRole('navigation', { name: 'Conversations' })
    .getByText('Tell me a long story.')
    .click();
  await expect(answer().locator('.markdown')).toHaveText(text);
  await expect(answer().getByText('Stopped')).toBeVisible();
});
