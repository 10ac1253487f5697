import { LlavaDeskError } from '../common/errors.js';
import { dataLayout } from '../common/data-dir.js';

export interface ModelPair {
  modelPath: string;
  mmprojPath: string;
}

/**
 * The pair a command runs: `--model` + `--mmproj` when given, else the installed catalog default,
 * else the only installed model.
 */
export async function resolveModelPair(
  options: { model?: string; mmproj?: string },
  dataDir: string,
): Promise<ModelPair> {
  if (options.model !== undefined || options.mmproj !== undefined) {
    if (options.model === undefined || options.mmproj === undefined) {
      throw new LlavaDeskError('USAGE', '--model and --mmproj go together: give both files.');
    }
    return { modelPath: options.model, mmprojPath: options.mmproj };
  }
  const { listModels } = await import('../models/registry/registry.js');
  const { loadCatalog } = await import('../models/catalog/load-catalog.js');
  const { installed } = await listModels(dataLayout(dataDir).models);
  if (installed.length === 0) {
    throw new LlavaDeskError(
      'USAGE',
      'No model is installed. Download the default one with `llava-desk models pull ' +
        'llava-1.5-7b-q4_k_m`, or pass --model and --mmproj.',
    );
  }
  const catalog = await loadCatalog();
  const defaultId = catalog.models.find((m) => m.default === true)?.id;
  const chosen = installed.find((m) => m.id === defaultId) ?? installed[0];
  if (!chosen || (installed.length > 1 && chosen.id !== defaultId)) {
    throw new LlavaDeskError(
      'USAGE',
      `Several models are installed (${installed.map((m) => m.id).join(', ')}): pick one with ` +
        '--model and --mmproj.',
    );
  }
  return { modelPath: chosen.modelPath, mmprojPath: chosen.mmprojPath };
}
