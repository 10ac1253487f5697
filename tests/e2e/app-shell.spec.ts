import { expect, test } from '@playwright/test';
import { startWebHost, type RunningWebHost } from './support/web-host.js';

let host: RunningWebHost;

test.beforeAll(async () => {
  host = await startWebHost();
});

test.afterAll(async () => {
  await host.stop();
});

for (const colorScheme of ['light', 'dark'] as const) {
  test(`web mode renders the app layout with no console errors (${colorScheme})`, async ({
    page,
  }) => {
    const problems: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') problems.push(msg.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.emulateMedia({ colorScheme });

    await page.goto(host.url);

    await expect(page.getByRole('navigation', { name: 'Conversations' })).toBeVisible();
    await expect(page.getByRole('main', { name: 'Chat' })).toBeVisible();
    await expect(page.getByRole('textbox', { name: 'Message' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Send' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Attach image' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'New chat' })).toBeVisible();

    // The theme follows the OS setting.
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe(colorScheme === 'dark' ? 'rgb(23, 24, 27)' : 'rgb(255, 255, 255)');

    await page.screenshot({ path: `test-results/screenshots/empty-${colorScheme}.png` });
    expect(problems).toEqual([]);
  });
}

test('Ctrl+N starts a new chat in the sidebar', async ({ page }) => {
  await page.goto(host.url);
  await expect(page.getByText('No conversations yet.')).toBeVisible();
  await page.keyboard.press('Control+n');
  await page.getByRole('button', { name: 'New chat' }).click();
  const items = page.getByRole('navigation', { name: 'Conversations' }).getByRole('listitem');
  await expect(items).toHaveCount(2);
});

test('the web host refuses a foreign Host header (DNS rebinding)', async ({ request }) => {
  const origin = new URL(host.url);
  const response = await request.get(`${origin.origin}/`, {
    headers: { Host: `attacker.example:${origin.port}` },
  });
  expect(response.status()).toBe(421);
  const ok = await request.get(`${origin.origin}/`);
  expect(ok.status()).toBe(200);
  expect(ok.headers()['content-security-policy']).toContain("script-src 'self'");
});
