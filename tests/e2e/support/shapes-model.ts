import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importModel } from '../../../src-main/models/import-model.js';
import { renderScene, type SceneSpec } from '../../support/shape-scenes.js';
import type { TestFile } from './images.js';
import { writeTestSettings } from './tiny-model.js';

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
