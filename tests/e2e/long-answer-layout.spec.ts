import { expect, test } from '@playwright/test';
import { installTinyModel, writeTestSettings } from './support/tiny-model.js';
import { startWebHost, type RunningWebHost } from './support/web-host.js';

// A long answer scrolls inside the messages pane: the window itself never scrolls, and the
// composer with its Stop button stays where the user's pointer expects it. (The grid row of the
// layout once grew with the answer, which pushed Stop below the window while it streamed.)
let host: RunningWebHost;

test.beforeAll(async () => {
  host = await startWebHost({
    prepare: async (dataDir) => {
      await installTinyModel(dataDir);
      await writeTestSettings(dataDir, { maxTokens: 32_768 });
    },
  });
});

test.afterAll(async () => {
  await host?.stop();
});

test('a long answer scrolls in the messages pane; Stop stays in the window and stops it', async ({
  page,
}) => {
  test.setTimeout(120_000);
  await page.goto(host.url);
  await expect(page.getByRole('combobox', { name: 'Model' })).toHaveValue('tiny-llava');
  await page.getByRole('textbox', { name: 'Message' }).fill('Tell me a long story.');
  await page.getByRole('button', { name: 'Send' }).click();

  const messages = page.getByRole('region', { name: 'Messages' });
  // Wait until the answer is three windows long (the random test model writes without end).
  await expect
    .poll(() => messages.evaluate((el) => el.scrollHeight / window.innerHeight), {
      timeout: 60_000,
    })
    .toBeGreaterThan(3);

  const layout = await page.evaluate(() => ({
    pageScrolls: document.documentElement.scrollHeight > window.innerHeight,
    messagesScroll: (() => {
      const el = document.querySelector('[aria-label="Messages"]')!;
      return el.scrollHeight > el.clientHeight;
    })(),
  }));
  expect(layout).toEqual({ pageScrolls: false, messagesScroll: true });
  const stop = page.getByRole('button', { name: 'Stop' });
  await expect(stop).toBeInViewport();

  await stop.click();
  await expect(page.getByRole('article', { name: 'Answer' }).first()).toHaveAttribute(
    'aria-busy',
    'false',
  );
});
