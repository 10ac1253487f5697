import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { corruptPng, pngFile, type TestFile } from './support/images.js';
import { dropFiles, pasteFiles, SCREENSHOTS } from './support/page-input.js';
import { installTinyModel } from './support/tiny-model.js';
import { startWebHost, type RunningWebHost } from './support/web-host.js';

// One user session, step by step, against web mode with the tiny model installed.
test.describe.configure({ mode: 'serial' });

let host: RunningWebHost;
let page: Page;
let gradient: TestFile;
let checker: TestFile;
let stripes: TestFile;
const problems: string[] = [];

test.beforeAll(async ({ browser }) => {
  [gradient, checker, stripes] = await Promise.all([
    pngFile('gradient.png', 'gradient'),
    pngFile('checker.png', 'checker'),
    pngFile('stripes.png', 'stripes', 64, 96),
  ]);
  host = await startWebHost({ prepare: installTinyModel });
  page = await (await browser.newContext()).newPage();
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(host.url);
  await expect(page.getByRole('combobox', { name: 'Model' })).toHaveValue('tiny-llava');
});

test.afterAll(async () => {
  await page?.close();
  await host?.stop();
});

const message = () => page.getByRole('textbox', { name: 'Message' });
const answers = () => page.getByRole('article', { name: 'Answer' });
const questions = () => page.getByRole('article', { name: 'Your question' });

async function waitForAnswerEnd(index: number): Promise<void> {
  const answer = answers().nth(index);
  await expect(answer).toHaveAttribute('aria-busy', 'false', { timeout: 30_000 });
}

async function shoot(name: string): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.screenshot({ path: `${SCREENSHOTS}/${name}-${colorScheme}.png` });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

test('drop an image, ask, and watch the answer stream', async () => {
  await dropFiles(page, page.getByRole('main', { name: 'Chat' }), [gradient]);
  const pending = page.getByRole('list', { name: 'Images to send' });
  await expect(pending.getByRole('img', { name: 'gradient.png' })).toBeVisible();
  await expect(page.getByText(/1 image · \d+ image tokens/)).toBeVisible();
  await shoot('pending-image');

  await message().fill('What is in this picture?');
  await page.getByRole('button', { name: 'Send' }).click();
  const answer = answers().first();
  await expect(answer).toHaveAttribute('aria-busy', 'true');
  await waitForAnswerEnd(0);
  await expect(answer.locator('.markdown')).not.toBeEmpty();
  await expect(answer.getByText(/tokens\/s/)).toBeVisible();
  await expect(answer.getByText(/to first token/)).toBeVisible();
  await expect(questions().first().getByRole('img', { name: 'gradient.png' })).toBeVisible();
  await expect(pending).toHaveCount(0);
  await expect(page.getByRole('note')).toContainText('can be wrong');
  await expect(
    page.getByRole('navigation', { name: 'Conversations' }).getByText('What is in this picture?'),
  ).toBeVisible();
  await shoot('answer');
});

test('a follow-up question continues the conversation', async () => {
  await message().fill('And what colours are there?');
  await message().press('Enter');
  await expect(answers()).toHaveCount(2);
  await waitForAnswerEnd(1);
  await expect(questions()).toHaveCount(2);
});

test('Shift+Enter adds a line; Esc stops an answer and its partial text is kept', async () => {
  // A long answer to have time to stop it.
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel('Longest answer (tokens)').fill('30000');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);

  await message().fill('Tell me everything');
  await expect(message()).toHaveValue('Tell me everything');
  await message().press('Shift+Enter');
  await message().pressSequentially('about it.');
  await expect(message()).toHaveValue('Tell me everything\nabout it.');
  await message().press('Enter');
  const answer = answers().nth(2);
  await expect(answer).toHaveAttribute('aria-busy', 'true');
  await expect(answer.locator('.markdown')).not.toBeEmpty();
  await shoot('streaming');
  await page.keyboard.press('Escape');
  await waitForAnswerEnd(2);
  await expect(answer.getByText('Stopped')).toBeVisible();
  await expect(answer.locator('.markdown')).not.toBeEmpty();
});

test('Stop button stops mid-answer; regenerate writes a new answer', async () => {
  await page.getByRole('button', { name: 'Regenerate' }).click();
  const answer = answers().nth(2);
  await expect(answer).toHaveAttribute('aria-busy', 'true');
  await expect(answer.locator('.markdown')).not.toBeEmpty();
  await page.getByRole('button', { name: 'Stop' }).click();
  await waitForAnswerEnd(2);
  await expect(answer.getByText('Stopped')).toBeVisible();
  const partial = await answer.locator('.markdown').innerText();
  expect(partial.length).toBeGreaterThan(0);

  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel('Longest answer (tokens)').fill('32');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await page.getByRole('button', { name: 'Regenerate' }).click();
  await expect(answers()).toHaveCount(3);
  await waitForAnswerEnd(2);
  await expect(answers().nth(2).getByText('Stopped')).toHaveCount(0);
  await expect(
    answers()
      .nth(2)
      .getByText(/tokens\/s/),
  ).toBeVisible();
});

test('reload the page: the history is intact', async () => {
  const before = await page.locator('article').allInnerTexts();
  await page.reload();
  await expect(answers()).toHaveCount(3);
  expect(await page.locator('article').allInnerTexts()).toEqual(before);
  await expect(questions().first().getByRole('img', { name: 'gradient.png' })).toBeVisible();
  await expect(answers().nth(2)).toHaveAttribute('aria-busy', 'false');
});

test('paste an image from the clipboard', async () => {
  await pasteFiles(message(), [checker]);
  await expect(
    page.getByRole('list', { name: 'Images to send' }).getByRole('img', { name: 'checker.png' }),
  ).toBeVisible();
  await message().fill('And this one?');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(answers()).toHaveCount(4);
  await waitForAnswerEnd(3);
  await expect(questions().nth(3).getByRole('img', { name: 'checker.png' })).toBeVisible();
});

test('two images in one message, picked with the file picker', async () => {
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Attach image' }).click();
  await (
    await chooser
  ).setFiles(
    [checker, stripes].map((f) => ({
      name: f.name,
      mimeType: f.mime,
      buffer: Buffer.from(f.base64, 'base64'),
    })),
  );
  const pending = page.getByRole('list', { name: 'Images to send' });
  await expect(pending.getByRole('img')).toHaveCount(2);
  await expect(page.getByText(/2 images · \d+ image tokens/)).toBeVisible();
  // High detail costs more tokens than standard.
  const standard = await page.getByText(/2 images · \d+ image tokens/).innerText();
  await page.getByRole('radio', { name: 'High' }).check();
  const high = await page.getByText(/2 images · \d+ image tokens/).innerText();
  expect(Number(/(\d+) image tokens/.exec(high)?.[1])).toBeGreaterThanOrEqual(
    Number(/(\d+) image tokens/.exec(standard)?.[1]),
  );
  await page.getByRole('radio', { name: 'Standard' }).check();
  // Remove one and add it back by dropping it.
  await page.getByRole('button', { name: 'Remove stripes.png' }).click();
  await expect(pending.getByRole('img')).toHaveCount(1);
  await dropFiles(page, message(), [stripes]);
  await expect(pending.getByRole('img')).toHaveCount(2);

  await message().fill('Compare the two.');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(answers()).toHaveCount(5);
  await waitForAnswerEnd(4);
  await expect(questions().nth(4).getByRole('img')).toHaveCount(2);
});

test('a corrupt file dropped shows an error and the app keeps working', async () => {
  await dropFiles(page, page.getByRole('main', { name: 'Chat' }), [await corruptPng('broken.png')]);
  const alert = page.getByRole('alert').filter({ hasText: 'broken.png' });
  await expect(alert).toBeVisible();
  await expect(page.getByRole('list', { name: 'Images to send' })).toHaveCount(0);
  await shoot('corrupt-file-error');
  await message().fill('Still there?');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(answers()).toHaveCount(6);
  await waitForAnswerEnd(5);
});

test('edit a question and resend: later turns are replaced', async () => {
  await questions().nth(1).hover();
  await questions().nth(1).getByRole('button', { name: 'Edit' }).click();
  const editor = page.getByRole('textbox', { name: 'Edit question' });
  await editor.fill('What colours, in one word?');
  await page.getByRole('button', { name: 'Save and ask again' }).click();
  await expect(questions()).toHaveCount(2);
  await expect(questions().nth(1)).toContainText('What colours, in one word?');
  await waitForAnswerEnd(1);
});

test('keyboard: Ctrl+K searches, Ctrl+N starts a new chat', async () => {
  await page.keyboard.press('Control+k');
  const search = page.getByRole('searchbox', { name: 'Search chats' });
  await expect(search).toBeFocused();
  await search.fill('colours');
  const nav = page.getByRole('navigation', { name: 'Conversations' });
  await expect(nav.getByRole('listitem')).toHaveCount(1);
  await search.fill('no such words anywhere');
  await expect(nav.getByText('No chats match.')).toBeVisible();
  await search.fill('');
  await page.keyboard.press('Control+n');
  await expect(nav.getByRole('listitem')).toHaveCount(2);
  await expect(page.getByRole('heading', { name: 'Ask about an image' })).toBeVisible();
  await expect(message()).toBeFocused();
});

test('models and settings panels', async () => {
  await page.getByRole('button', { name: 'Models' }).click();
  const dialog = page.getByRole('dialog', { name: 'Models' });
  await expect(dialog.getByText('Tiny LLaVA')).toBeVisible();
  // The load plan is shown before the model is loaded.
  await expect(
    dialog.getByText(/Load plan: CPU only · context [\d,]+ tokens · about/),
  ).toBeVisible();
  await expect(dialog.getByRole('heading', { name: 'Catalog' })).toBeVisible();
  // Which families run, before the user downloads one (docs/MODELS.md in short).
  const which = dialog.getByRole('region', { name: 'Which models run' });
  await expect(which).toContainText('LLaVA-1.5 and LLaVA-1.6');
  await expect(which).toContainText('Eagle');
  await shoot('model-manager');
  await dialog.getByRole('button', { name: 'Close' }).click();
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(page.getByRole('dialog', { name: 'Settings' })).toBeVisible();
  await expect(page.getByLabel('CPU threads')).toHaveValue('1');
  // Web mode: the local API is on the page's own origin (the desktop has a setting for it).
  const origin = new URL(page.url()).origin;
  await expect(page.getByTestId('local-api-address')).toContainText(`${origin}/v1`);
  await shoot('settings');
  // The idle unload time (default 10 minutes) is saved and shown again.
  const idle = page.getByLabel('Unload the model after idle (minutes)');
  await expect(idle).toHaveValue('10');
  await idle.fill('30');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByRole('dialog', { name: 'Settings' })).toBeHidden();
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(page.getByLabel('Unload the model after idle (minutes)')).toHaveValue('30');
  await page.getByRole('button', { name: 'Cancel' }).click();
});

test('axe-core finds no serious or critical accessibility violations', async () => {
  await page
    .getByRole('navigation', { name: 'Conversations' })
    .getByText('What is in this picture?')
    .click();
  await expect(answers()).toHaveCount(2);
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const results = await new AxeBuilder({ page }).analyze();
    const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual(
      [],
    );
  }
  await page.getByRole('button', { name: 'Models' }).click();
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual(
    [],
  );
  await page.keyboard.press('Escape');
  expect(problems).toEqual([]);
});
