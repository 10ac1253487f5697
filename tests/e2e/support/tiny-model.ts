import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLlavaPair, type LlavaPairResult } from '../../../scripts/test-model/llava-pair.js';
import { importModel } from '../../../src-main/models/import-model.js';

let pair: Promise<LlavaPairResult> | undefined;

/** The tiny generated LLaVA pair, made once per test worker. */
export function tinyPair(): Promise<LlavaPairResult> {
  pair ??= mkdtemp(join(tmpdir(), 'llava-desk-e2e-pair-')).then((dir) =>
    makeLlavaPair({ outDir: dir, seed: 3 }),
  );
  return pair;
}

/** Settings for the tiny model on a small machine: one thread is its fastest. */
export async function writeTestSettings(
  dataDir: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await writeFile(
    join(dataDir, 'settings.json'),
    JSON.stringify({
      schemaVersion: 1,
      settings: { threads: 1, contextSize: 32768, maxTokens: 32, temperature: 0, ...extra },
    }),
  );
}

/** A data folder with the tiny pair installed, as `llava-desk models import` would. */
export async function installTinyModel(dataDir: string): Promise<void> {
  const { modelPath, mmprojPath } = await tinyPair();
  await mkdir(join(dataDir, 'models'), { recursive: true });
  await importModel({
    path: modelPath,
    mmprojPath,
    modelsDir: join(dataDir, 'models'),
    id: 'tiny-llava',
    displayName: 'Tiny LLaVA',
  });
  await writeTestSettings(dataDir);
}
