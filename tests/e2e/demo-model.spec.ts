import { expect, test } from '@playwright/test';
import { dropFiles, SCREENSHOTS } from './support/page-input.js';
import { sceneFile } from './support/shapes-model.js';
import { writeTestSettings } from './support/tiny-model.js';
import { startWebHost, type RunningWebHost } from './support/web-host.js';

// A new user with no model: the first-run screen offers the shapes demo that comes with the app
// (the real catalog entry, no download), and its first answer is right.
let host: RunningWebHost;

test.beforeAll(async () => {
  host = await startWebHost({
    prepare: (dataDir) => writeTestSettings(dataDir, { maxTokens: 8, contextSize: 2048 }),
  });
});

test.afterAll(async () => {
  await host?.stop();
});

test('first run: the shapes demo installs from the app in seconds and answers right', async ({
  page,
}) => {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(host.url);
  const demo = page.getByRole('region', { name: 'Demo model' });
  await expect(demo).toContainText('Shapes demo model (a few MB)');
  await expect(demo).toContainText('comes with the app, no download');
  await page.screenshot({ path: `${SCREENSHOTS}/first-run-demo.png` });

  const started = Date.now();
  await demo.getByRole('button', { name: 'Install the demo model' }).click();
  await expect(page.getByRole('combobox', { name: 'Model' })).toHaveValue('shapes-demo', {
    timeout: 20_000,
  });
  const installMs = Date.now() - started;
  console.log(`shapes demo: installed and selected in ${installMs} ms`);

  await page.getByRole('checkbox', { name: 'Short answer' }).check();
  await dropFiles(page, page.getByRole('main', { name: 'Chat' }), [
    await sceneFile('circle.png', {
      width: 800,
      height: 600,
      background: 'yellow',
      shapes: [{ kind: 'circle', colour: 'red', cx: 420, cy: 290, size: 300 }],
    }),
  ]);
  await page.getByRole('textbox', { name: 'Message' }).fill('What color is the circle?');
  await page.getByRole('button', { name: 'Send' }).click();
  const answer = page.getByRole('article', { name: 'Answer' }).first();
  await expect(answer).toHaveAttribute('aria-busy', 'false', { timeout: 30_000 });
  expect((await answer.locator('.markdown').innerText()).trim()).toBe('red');
  expect(Date.now() - started).toBeLessThan(30_000);
  expect(problems).toEqual([]);
});
