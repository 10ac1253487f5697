import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { renderScene, type SceneSpec } from '../support/shape-scenes.js';
import { dropFiles, SCREENSHOTS } from './support/page-input.js';
import { askAndRead, openShapesChat, sceneFile } from './support/shapes-model.js';
import type { RunningWebHost } from './support/web-host.js';

// Answers that mean something: the committed shapes model (docs/SHAPES-MODEL.md) in web mode,
// asked through the app's own image pipeline. A swapped channel, a wrong normalisation, a pad
// colour or a template off by a token changes these answers; the random tiny pair cannot tell.
test.describe.configure({ mode: 'serial' });

let host: RunningWebHost;
let page: Page;
let folder: string;
let problems: string[];

const redCircle: SceneSpec = {
  width: 640,
  height: 480,
  background: 'white',
  shapes: [{ kind: 'circle', colour: 'red', cx: 300, cy: 250, size: 230 }],
};
const blueSquare: SceneSpec = {
  width: 400,
  height: 500,
  background: 'yellow',
  shapes: [{ kind: 'square', colour: 'blue', cx: 210, cy: 240, size: 190 }],
};
const single = (
  kind: 'circle' | 'square' | 'triangle',
  colour: 'green' | 'purple' | 'orange',
): SceneSpec => ({
  width: 600,
  height: 400,
  background: 'black',
  shapes: [{ kind, colour, cx: 290, cy: 210, size: 190 }],
});

test.beforeAll(async ({ browser }) => {
  folder = await mkdtemp(join(tmpdir(), 'llava-desk-e2e-meaning-'));
  ({ host, page, problems } = await openShapesChat(browser));
});

test.afterAll(async () => {
  await page?.close();
  await host?.stop();
  if (folder) await rm(folder, { recursive: true, force: true });
});

const message = () => page.getByRole('textbox', { name: 'Message' });
const answers = () => page.getByRole('article', { name: 'Answer' });
const ask = (question: string, index: number) => askAndRead(page, question, index);

test('a red circle dropped into the chat: the answer says red', async () => {
  await page.getByRole('checkbox', { name: 'Short answer' }).check();
  await dropFiles(page, page.getByRole('main', { name: 'Chat' }), [
    await sceneFile('red-circle.png', redCircle),
  ]);
  expect(await ask('What color is the circle?', 0)).toBe('red');
  expect(await ask('What shape is this?', 1)).toBe('circle');
  // a one-word answer is one token, and its stats say so in the singular
  await expect(answers().nth(1).getByText('1 token', { exact: true })).toBeVisible();
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.screenshot({ path: `${SCREENSHOTS}/shapes-answer-${colorScheme}.png` });
  }
  await page.emulateMedia({ colorScheme: 'light' });
});

test('a second image later in the same chat: the follow-up is answered about it', async () => {
  await dropFiles(page, message(), [await sceneFile('blue-square.png', blueSquare)]);
  expect(await ask('What shape is this?', 2)).toBe('square');
  expect(await ask('What color is the square?', 3)).toBe('blue');
  expect(problems).toEqual([]);
});

test('a folder described with a short prompt: each sidecar names its shape', async () => {
  const kinds = [
    ['circle', 'green'],
    ['square', 'purple'],
    ['triangle', 'orange'],
  ] as const;
  for (const [kind, colour] of kinds) {
    await writeFile(join(folder, `${kind}.png`), await renderScene(single(kind, colour)));
  }
  await page.getByRole('button', { name: 'Batch' }).click();
  const dialog = page.getByRole('dialog', { name: 'Describe a folder' });
  await dialog.getByRole('textbox', { name: 'Folder' }).fill(folder);
  await dialog.getByRole('radio', { name: 'My own prompt' }).check();
  await dialog.getByRole('textbox', { name: 'Prompt' }).fill('What shape is this?');
  await dialog.getByRole('checkbox', { name: /Short answers/ }).check();
  await dialog.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByText(/Batch done: 3 described, 0 skipped, 0 failed/)).toBeVisible({
    timeout: 60_000,
  });
  for (const [kind] of kinds) {
    const text = await readFile(join(folder, `${kind}.txt`), 'utf8');
    expect(text.trim().toLowerCase(), `${kind}.png`).toBe(kind);
  }
});
