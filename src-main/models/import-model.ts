import { copyFile, constants, link, mkdir, readdir, rename, rm, symlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { LlavaDeskError } from '../common/errors.js';
import { inspectGguf, type GgufSummary } from './gguf/inspect-gguf.js';
import { pairProblem } from './pairing.js';
import { installPair } from './registry/install-pair.js';
import { slugifyModelId } from './registry/model-id.js';
import { findInstalledModel, type InstalledModel } from './registry/registry.js';

export type ImportMode = 'copy' | 'hardlink' | 'symlink';

export interface ImportRequest {
  /** The LLM GGUF (or its projector: the other file is then looked for next to it). */
  path: string;
  /** The projector; found next to the LLM when not given. */
  mmprojPath?: string;
  modelsDir: string;
  /** Default `copy`. A hard link falls back to a copy across volumes. */
  mode?: ImportMode;
  id?: string;
  displayName?: string;
}

const commonPrefixLength = (a: string, b: string): number => {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
};

/** The GGUFs next to `file` that pair with it, best name match first. */
export async function findPartnersNextTo(file: GgufSummary): Promise<GgufSummary[]> {
  const dir = dirname(file.path);
  const names = (await readdir(dir)).filter((n) => n.toLowerCase().endsWith('.gguf'));
  const partners: GgufSummary[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if (resolve(path) === resolve(file.path)) continue;
    const other = await inspectGguf(path).catch(() => undefined);
    if (!other || other.role === file.role) continue;
    const [model, mmproj] = file.role === 'model' ? [file, other] : [other, file];
    const problem = pairProblem(model, mmproj);
    if (problem === undefined || problem.code === 'MMPROJ_OUTDATED') partners.push(other);
  }
  const stem = basename(file.path).toLowerCase();
  return partners.sort(
    (a, b) =>
      commonPrefixLength(basename(b.path).toLowerCase(), stem) -
      commonPrefixLength(basename(a.path).toLowerCase(), stem),
  );
}

async function place(from: string, to: string, mode: ImportMode): Promise<ImportMode> {
  await rm(to, { force: true });
  if (mode === 'symlink') {
    await symlink(resolve(from), to);
    return 'symlink';
  }
  if (mode === 'hardlink') {
    try {
      await link(from, to);
      return 'hardlink';
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw error;
    }
  }
  const tmp = `${to}.partial-${process.pid}`;
  try {
    await copyFile(from, tmp, constants.COPYFILE_FICLONE);
    await rename(tmp, to);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  return 'copy';
}

/**
 * Imports a GGUF pair from anywhere on disk into the models folder (copy, hard link or symlink),
 * pairing the LLM with its projector from their metadata, repairing an old projector, and
 * writing the manifest last.
 */
export async function importModel(request: ImportRequest): Promise<InstalledModel> {
  const first = await inspectGguf(request.path);
  let model: GgufSummary;
  let mmproj: GgufSummary;
  if (request.mmprojPath !== undefined) {
    model = first;
    mmproj = await inspectGguf(request.mmprojPath);
  } else {
    const partner = (await findPartnersNextTo(first))[0];
    if (!partner) {
      throw new LlavaDeskError(
        'MMPROJ_MISSING',
        first.role === 'model'
          ? `no matching vision projector (mmproj) next to ${first.path}; give it with --mmproj`
          : `no language model that matches the projector ${first.path} next to it`,
      );
    }
    [model, mmproj] = first.role === 'model' ? [first, partner] : [partner, first];
  }
  if (model.role !== 'model') {
    throw new LlavaDeskError('MODEL_SOURCE_INVALID', `${model.path} is not a language model`);
  }
  const problem = pairProblem(model, mmproj);
  if (problem && problem.code !== 'MMPROJ_OUTDATED') {
    throw new LlavaDeskError(problem.code, problem.message);
  }

  const id = request.id ?? slugifyModelId(basename(model.path));
  if (await findInstalledModel(request.modelsDir, id)) {
    throw new LlavaDeskError(
      'MODEL_ALREADY_INSTALLED',
      `a model with id ${id} is already installed`,
    );
  }
  const dir = join(request.modelsDir, id);
  await mkdir(dir, { recursive: true });
  const mode = request.mode ?? 'copy';
  const modelName = basename(model.path);
  let mmprojName = basename(mmproj.path);
  if (mmprojName === modelName) mmprojName = `mmproj-${mmprojName}`;
  try {
    const modelPlacement = await place(model.path, join(dir, modelName), mode);
    const mmprojPlacement = await place(mmproj.path, join(dir, mmprojName), mode);
    return await installPair({
      modelsDir: request.modelsDir,
      id,
      displayName: request.displayName ?? model.name ?? modelName.replace(/\.gguf$/i, ''),
      source: 'import',
      files: [
        { role: 'model', fileName: modelName, placement: modelPlacement, origin: model.path },
        { role: 'mmproj', fileName: mmprojName, placement: mmprojPlacement, origin: mmproj.path },
      ],
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
