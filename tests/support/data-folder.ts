import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { importModel } from '../../src-main/models/import-model.js';

/** Settings a test writes into a data folder (the settings file's `settings` object). */
export type TestSettings = Record<string, unknown>;

/**
 * Installs a generated pair into `dataDir` as model `tiny` (as `llava-desk models import` does)
 * and writes the test's settings, e.g. one thread and a small token limit.
 */
export async function installPair(
  dataDir: string,
  pair: { modelPath: string; mmprojPath: string },
  settings: TestSettings,
): Promise<void> {
  await importModel({
    path: pair.modelPath,
    mmprojPath: pair.mmprojPath,
    modelsDir: join(dataDir, 'models'),
    id: 'tiny',
  });
  await writeFile(join(dataDir, 'settings.json'), JSON.stringify({ schemaVersion: 1, settings }));
}
