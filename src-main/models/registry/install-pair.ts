import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LlavaDeskError } from '../../common/errors.js';
import { repairOutdatedMmproj } from '../gguf/repair-mmproj.js';
import { pairProblem, validatePair } from '../pairing.js';
import { inspectGguf } from '../gguf/inspect-gguf.js';
import { writeManifest, type ManifestFile, type ModelManifest } from './manifest.js';
import { findInstalledModel, type InstalledModel } from './registry.js';

export interface PairToInstall {
  modelsDir: string;
  id: string;
  displayName: string;
  family?: string;
  promptTemplate?: ModelManifest['promptTemplate'];
  source: ModelManifest['source'];
  catalogId?: string;
  /** Both files, already inside `<modelsDir>/<id>/`. */
  files: Omit<ManifestFile, 'sizeBytes'>[];
}

/**
 * Validates a pair that already sits in its folder, repairs an old projector in place, and writes
 * the manifest last: until then the folder is not an installed model.
 */
export async function installPair(pair: PairToInstall): Promise<InstalledModel> {
  const dir = join(pair.modelsDir, pair.id);
  const modelFile = pair.files.find((f) => f.role === 'model');
  const mmprojFile = pair.files.find((f) => f.role === 'mmproj');
  if (!modelFile || !mmprojFile) {
    throw new LlavaDeskError('MMPROJ_MISSING', 'a model needs both its LLM and its projector');
  }
  const modelPath = join(dir, modelFile.fileName);
  const mmprojPath = join(dir, mmprojFile.fileName);

  const model = await inspectGguf(modelPath);
  let mmproj = await inspectGguf(mmprojPath);
  let repaired = false;
  if (pairProblem(model, mmproj)?.code === 'MMPROJ_OUTDATED') {
    const fixedPath = join(dirname(mmprojPath), `${basename(mmprojPath, '.gguf')}.repaired.gguf`);
    mmproj = await repairOutdatedMmproj(mmprojPath, fixedPath);
    // A symlinked or hard-linked original is left untouched; the folder keeps only the repair.
    await rm(mmprojPath, { force: true });
    await rename(fixedPath, mmprojPath);
    mmproj = { ...mmproj, path: mmprojPath };
    repaired = true;
  }
  await validatePair(modelPath, mmprojPath);

  const sizes = { model: model.sizeBytes, mmproj: mmproj.sizeBytes };
  const manifest: ModelManifest = {
    schemaVersion: 1,
    id: pair.id,
    displayName: pair.displayName,
    family: pair.family,
    promptTemplate: pair.promptTemplate ?? (model.hasChatTemplate ? 'gguf-jinja' : 'vicuna_v1'),
    source: pair.source,
    catalogId: pair.catalogId,
    embeddingLength: model.embeddingLength,
    projectorType: mmproj.projectorType ?? 'mlp',
    repairedMmproj: repaired || undefined,
    files: pair.files.map((f) => ({
      ...f,
      placement: repaired && f.role === 'mmproj' ? 'repaired' : f.placement,
      sha256: repaired && f.role === 'mmproj' ? undefined : f.sha256,
      sizeBytes: sizes[f.role],
    })),
    installedAt: new Date().toISOString(),
  };
  await writeManifest(dir, manifest);
  const installed = await findInstalledModel(pair.modelsDir, pair.id);
  if (!installed)
    throw new LlavaDeskError('INTERNAL', `installed ${pair.id} but cannot read it back`);
  return installed;
}
