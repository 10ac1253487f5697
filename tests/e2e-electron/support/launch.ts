import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron as electron, test, type ElectronApplication, type Page } from '@playwright/test';
import type { ApiResponse, PreloadBridge } from '../../../src-main/api/contract.js';
import { makeLlavaPair } from '../../../scripts/test-model/llava-pair.js';
import { findElectronBinary } from './electron-binary.js';

/** The Electron executable, or undefined: then every test here is skipped as "no Electron binary". */
export const executablePath = findElectronBinary();
export const NO_ELECTRON = 'no Electron binary';

const mainBundle = fileURLToPath(new URL('../../../out/main/index.js', import.meta.url));

export interface RunningApp {
  app: ElectronApplication;
  page: Page;
  dataDir: string;
  close(): Promise<void>;
}

/** Starts the built app (npm run build) with a temporary (or the given) data folder. */
export async function launchApp(
  options: { dataDir?: string; args?: string[] } = {},
): Promise<RunningApp> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'llava-desk-electron-')));
  const app = await electron.launch({
    ...(executablePath ? { executablePath } : {}),
    args: [mainBundle, ...(options.args ?? [])],
    env: { ...process.env, LLAVA_DESK_HOME: dataDir },
  });
  const page = await app.firstWindow();
  return {
    app,
    page,
    dataDir,
    close: async () => {
      await app.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

type BridgeWindow = { llavaDesk: PreloadBridge };

/** Calls the API the way the renderer does: through the preload's `window.llavaDesk`. */
export async function invoke(
  page: Page,
  method: string,
  params: unknown = {},
): Promise<ApiResponse> {
  return page.evaluate(([m, p]) => (globalThis as unknown as BridgeWindow).llavaDesk.invoke(m, p), [
    method,
    params,
  ] as const);
}

/** A tiny generated LLaVA pair, imported into the app through the API (no download). */
export async function installTinyModel(page: Page, dataDir: string): Promise<void> {
  const pair = await makeLlavaPair({ outDir: join(dataDir, 'tiny-pair'), seed: 7 });
  const imported = await invoke(page, 'models.import', {
    path: pair.modelPath,
    mmprojPath: pair.mmprojPath,
  });
  if (!imported.ok) throw new Error(`import failed: ${imported.error.message}`);
}

/** Waits until the conversation's last answer is no longer streaming; returns it. */
export async function finishedAnswer(
  page: Page,
  conversationId: string,
): Promise<{ text: string; status: string; images: number }> {
  for (let attempt = 0; attempt < 240; attempt += 1) {
    const got = await invoke(page, 'chats.get', { id: conversationId });
    if (got.ok) {
      const messages = (
        got.value as {
          messages: Array<{ role: string; text: string; status: string; images: unknown[] }>;
        }
      ).messages;
      const last = messages.at(-1);
      const firstUser = messages.find((m) => m.role === 'user');
      if (last?.role === 'assistant' && last.status !== 'streaming') {
        return { text: last.text, status: last.status, images: firstUser?.images.length ?? 0 };
      }
    }
    await page.waitForTimeout(250);
  }
  throw new Error('the answer did not finish');
}

/**
 * The set-up every Electron spec file shares, registered on the file: skipped (with the reason)
 * without an Electron binary, one app launched before the file's tests (with the tiny model
 * installed when asked) and closed after them. Returns the running app, once launched.
 */
export function useRunningApp(
  options: { tinyModel?: boolean; timeoutMs?: number } = {},
): () => RunningApp {
  let running: RunningApp | undefined;
  test.skip(executablePath === undefined, NO_ELECTRON);
  if (options.timeoutMs !== undefined) test.setTimeout(options.timeoutMs);
  test.beforeAll(async () => {
    running = await launchApp();
    if (options.tinyModel) await installTinyModel(running.page, running.dataDir);
  });
  test.afterAll(async () => {
    await running?.close();
  });
  return () => {
    if (!running) throw new Error('the app is not running (beforeAll failed or was skipped)');
    return running;
  };
}
