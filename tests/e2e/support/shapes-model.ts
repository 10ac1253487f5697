import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importModel } from '../../../src-main/models/import-model.js';
import { renderScene, type SceneSpec } from '../../support/shape-scenes.js';
import { expect, type Browser, type Page } from '@playwright/test';
import type { TestFile } from './images.js';
import { writeTestSettings } from './tiny-model.js';
import { startWebHost, type RunningWebHost } from './web-host.js';

/** The committed shapes model (scripts/shapes-model/, docs/SHAPES-MODEL.md): a pair that sees. */
export const SHAPES_PAIR = {
  modelPath: fileURLToPath(new URL('../../fixtures/shapes-model/shapes-llm.gguf', import.meta.url)),
  mmprojPath: fileURLToPath(
    new URL('../../fixtures/shapes-model/shapes-mmproj.gguf', import.meta.url),
  ),
};

/** A data folder with the shapes model installed and greedy one-word answers. */
export async function installShapesModel(dataDir: string): Promise<void> {
  await mkdir(join(dataDir, 'models'), { recursive: true });
  await importModel({
    ...SHAPES_PAIR,
    path: SHAPES_PAIR.modelPath,
    modelsDir: join(dataDir, 'models'),
    id: 'shapes',
    displayName: 'Shapes model',
  });
  await writeTestSettings(dataDir, { maxTokens: 8, contextSize: 2048 });
}

/** A shapes scene as a PNG file to drop into the page. */
export async function sceneFile(name: string, spec: SceneSpec): Promise<TestFile> {
  return { name, mime: 'image/png', base64: (await renderScene(spec)).toString('base64') };
}

/** Web mode with the shapes model installed and selected in a 1280 x 800 page; errors thrown in
 *  the page are collected in `problems`. */
export async function openShapesChat(
  browser: Browser,
): Promise<{ host: RunningWebHost; page: Page; problems: string[] }> {
  const host = await startWebHost({ prepare: installShapesModel });
  const page = await (
    await browser.newContext({ viewport: { width: 1280, height: 800 } })
  ).newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(host.url);
  await expect(page.getByRole('combobox', { name: 'Model' })).toHaveValue('shapes');
  return { host, page, problems };
}

/** Sends `question` and returns answer number `index` of the chat once it has ended: its text,
 *  trimmed and lower-cased. */
export async function askAndRead(page: Page, question: string, index: number): Promise<string> {
  await page.getByRole('textbox', { name: 'Message' }).fill(question);
  await page.getByRole('button', { name: 'Send' }).click();
  const answer = page.getByRole('article', { name: 'Answer' }).nth(index);
  await expect(answer).toHaveAttribute('aria-busy', 'false', { timeout: 30_000 });
  return (await answer.locator('.markdown').innerText()).trim().toLowerCase();
}
