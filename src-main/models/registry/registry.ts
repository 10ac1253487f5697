import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LlavaDeskError } from '../../common/errors.js';
import { readManifest, type ModelManifest } from './manifest.js';
import { isValidModelId } from './model-id.js';

export interface InstalledModel {
  id: string;
  dir: string;
  modelPath: string;
  mmprojPath: string;
  sizeBytes: number;
  manifest: ModelManifest;
}

/** A folder with a download in progress (partial files, no manifest yet). */
export interface IncompleteModel {
  id: string;
  dir: string;
  partialBytes: number;
}

export interface ModelsDirListing {
  installed: InstalledModel[];
  incomplete: IncompleteModel[];
}

async function subfolders(modelsDir: string): Promise<string[]> {
  try {
    const entries = await readdir(modelsDir, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

function installedFrom(dir: string, manifest: ModelManifest): InstalledModel {
  const file = (role: 'model' | 'mmproj'): string =>
    join(dir, manifest.files.find((f) => f.role === role)?.fileName ?? '');
  return {
    id: manifest.id,
    dir,
    modelPath: file('model'),
    mmprojPath: file('mmproj'),
    sizeBytes: manifest.files.reduce((sum, f) => sum + f.sizeBytes, 0),
    manifest,
  };
}

/** The installed models (one folder each, with a manifest) and unfinished downloads. */
export async function listModels(modelsDir: string): Promise<ModelsDirListing> {
  const listing: ModelsDirListing = { installed: [], incomplete: [] };
  for (const name of await subfolders(modelsDir)) {
    const dir = join(modelsDir, name);
    const manifest = await readManifest(dir);
    if (manifest) {
      listing.installed.push(installedFrom(dir, manifest));
      continue;
    }
    const parts = (await readdir(dir)).filter((f) => f.endsWith('.part'));
    if (parts.length === 0) continue;
    let partialBytes = 0;
    for (const part of parts) partialBytes += (await stat(join(dir, part))).size;
    listing.incomplete.push({ id: name, dir, partialBytes });
  }
  return listing;
}

export async function findInstalledModel(
  modelsDir: string,
  id: string,
): Promise<InstalledModel | undefined> {
  if (!isValidModelId(id)) return undefined;
  const dir = join(modelsDir, id);
  const manifest = await readManifest(dir);
  return manifest ? installedFrom(dir, manifest) : undefined;
}

/** Deletes an installed model (or an unfinished download) and its folder. */
export async function removeModel(modelsDir: string, id: string): Promise<void> {
  if (!isValidModelId(id)) {
    throw new LlavaDeskError(
      'MODEL_NOT_INSTALLED',
      `no installed model with id ${JSON.stringify(id)}`,
    );
  }
  const dir = join(modelsDir, id);
  try {
    await stat(dir);
  } catch {
    throw new LlavaDeskError('MODEL_NOT_INSTALLED', `no installed model with id ${id}`);
  }
  // The manifest goes first, so a crash half-way leaves no folder that claims to be installed.
  await rm(join(dir, 'manifest.json'), { force: true });
  await rm(dir, { recursive: true, force: true });
}
