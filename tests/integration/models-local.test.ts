import {
  copyFile,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  stat,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGgufFileInfo } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLlavaPair, type LlavaPairResult } from '../../scripts/test-model/llava-pair.js';
import { LlavaDeskError } from '../../src-main/common/errors.js';
import { discoverModels } from '../../src-main/models/discovery/discover-models.js';
import { readGgufHeaderLayout } from '../../src-main/models/gguf/header-layout.js';
import { inspectGguf } from '../../src-main/models/gguf/inspect-gguf.js';
import { repairOutdatedMmproj } from '../../src-main/models/gguf/repair-mmproj.js';
import { rewriteGgufHeader } from '../../src-main/models/gguf/rewrite-header.js';
import { importModel } from '../../src-main/models/import-model.js';
import { validatePair } from '../../src-main/models/pairing.js';
import {
  findInstalledModel,
  listModels,
  removeModel,
} from '../../src-main/models/registry/registry.js';
import { sha256Hex } from '../support/fault-server.js';
import { open } from 'node:fs/promises';

let root: string;
let pair: LlavaPairResult;
let wide: LlavaPairResult;
let outdatedMmproj: string;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LlavaDeskError) return error.code;
    throw error;
  }
  return 'no error';
}

/** sha256 of a GGUF's tensor data section (everything after the padded header). */
async function dataSectionHash(path: string): Promise<string> {
  const size = (await stat(path)).size;
  const file = await open(path, 'r');
  try {
    const layout = await readGgufHeaderLayout(file, size);
    return sha256Hex((await readFile(path)).subarray(layout.dataOffset));
  } finally {
    await file.close();
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'llava-desk-models-'));
  pair = await makeLlavaPair({ outDir: join(root, 'src', 'tiny'), seed: 3 });
  wide = await makeLlavaPair({
    outDir: join(root, 'src', 'wide'),
    seed: 4,
    llm: { nEmbd: 128 },
    vision: { projectionDim: 128 },
  });
  outdatedMmproj = join(root, 'src', 'mmproj-old.gguf');
  await rewriteGgufHeader(pair.mmprojPath, outdatedMmproj, { remove: ['clip.projector_type'] });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('GGUF validation before any load', () => {
  it('accepts a matching pair and reads widths from the tensors', async () => {
    const { model, mmproj } = await validatePair(pair.modelPath, pair.mmprojPath);
    expect(model).toMatchObject({ role: 'model', architecture: 'llama', embeddingLength: 64 });
    expect(mmproj).toMatchObject({ role: 'mmproj', projectionWidth: 64, projectorType: 'mlp' });
  });

  it('gives a typed error for each way a pair can be broken', async () => {
    const junk = join(root, 'junk.gguf');
    await writeFile(junk, 'this is not a model at all');
    const cut = join(root, 'cut.gguf');
    await copyFile(pair.modelPath, cut);
    await truncate(cut, Math.floor((await stat(cut)).size * 0.7));
    const cutHeader = join(root, 'cut-header.gguf');
    await copyFile(pair.modelPath, cutHeader);
    await truncate(cutHeader, 200);

    expect(await codeOf(validatePair(join(root, 'nope.gguf'), pair.mmprojPath))).toBe(
      'MODEL_FILE_MISSING',
    );
    expect(await codeOf(validatePair(junk, pair.mmprojPath))).toBe('NOT_GGUF');
    expect(await codeOf(validatePair(cut, pair.mmprojPath))).toBe('GGUF_TRUNCATED');
    expect(await codeOf(validatePair(cutHeader, pair.mmprojPath))).toBe('GGUF_TRUNCATED');
    expect(await codeOf(validatePair(pair.modelPath, undefined))).toBe('MMPROJ_MISSING');
    expect(await codeOf(validatePair(pair.modelPath, wide.modelPath))).toBe('MMPROJ_MISSING');
    expect(await codeOf(validatePair(pair.modelPath, wide.mmprojPath))).toBe(
      'MMPROJ_WIDTH_MISMATCH',
    );
    expect(await codeOf(validatePair(pair.modelPath, outdatedMmproj))).toBe('MMPROJ_OUTDATED');
  });

  it('repairs an old projector: adds clip.projector_type, keeps every tensor byte', async () => {
    const before = await inspectGguf(outdatedMmproj);
    expect(before.projectorType).toBeUndefined();
    const repairedPath = join(root, 'mmproj-repaired.gguf');
    const repaired = await repairOutdatedMmproj(outdatedMmproj, repairedPath);
    expect(repaired.projectorType).toBe('mlp');
    await validatePair(pair.modelPath, repairedPath);

    const original = await readGgufFileInfo(pair.mmprojPath, { logWarnings: false });
    const fixed = await readGgufFileInfo(repairedPath, { logWarnings: false });
    expect(fixed.tensorInfo?.map((t) => [t.name, t.offset])).toEqual(
      original.tensorInfo?.map((t) => [t.name, t.offset]),
    );
    expect(await dataSectionHash(repairedPath)).toBe(await dataSectionHash(pair.mmprojPath));
    const size = (await stat(repairedPath)).size;
    const file = await open(repairedPath, 'r');
    const layout = await readGgufHeaderLayout(file, size);
    await file.close();
    expect(layout.dataOffset % layout.alignment).toBe(0);
  });
});

describe('the local registry and import', () => {
  it('imports by copy, pairing the projector found next to the model, then lists and removes', async () => {
    const modelsDir = join(root, 'data-copy', 'models');
    const installed = await importModel({ path: pair.modelPath, modelsDir });
    expect(installed.id).toBe('llava-model-f16');
    expect(installed.manifest).toMatchObject({
      source: 'import',
      projectorType: 'mlp',
      embeddingLength: 64,
    });
    expect((await lstat(installed.modelPath)).isFile()).toBe(true);

    const listing = await listModels(modelsDir);
    expect(listing.installed.map((m) => m.id)).toEqual(['llava-model-f16']);
    expect(listing.installed[0]?.sizeBytes).toBe(pair.llm.bytes + pair.mmproj.bytes);
    expect(await codeOf(importModel({ path: pair.modelPath, modelsDir }))).toBe(
      'MODEL_ALREADY_INSTALLED',
    );

    await removeModel(modelsDir, 'llava-model-f16');
    expect((await listModels(modelsDir)).installed).toEqual([]);
    expect(await codeOf(removeModel(modelsDir, 'llava-model-f16'))).toBe('MODEL_NOT_INSTALLED');
    expect(await codeOf(removeModel(modelsDir, '../etc'))).toBe('MODEL_NOT_INSTALLED');
  });

  it('imports by symlink and by hard link, starting from the projector', async () => {
    const modelsDir = join(root, 'data-link', 'models');
    const sym = await importModel({ path: pair.mmprojPath, modelsDir, mode: 'symlink', id: 'sym' });
    expect((await lstat(sym.modelPath)).isSymbolicLink()).toBe(true);
    expect(sym.manifest.files.map((f) => f.placement)).toEqual(['symlink', 'symlink']);
    const hard = await importModel({
      path: pair.modelPath,
      modelsDir,
      mode: 'hardlink',
      id: 'hard',
    });
    expect((await stat(hard.modelPath)).nlink).toBeGreaterThan(1);
    await removeModel(modelsDir, 'sym');
    await removeModel(modelsDir, 'hard');
    expect((await stat(pair.modelPath)).isFile()).toBe(true);
  });

  it('writes a repaired copy on import of an old projector and leaves the original alone', async () => {
    const modelsDir = join(root, 'data-repair', 'models');
    const originalHash = sha256Hex(await readFile(outdatedMmproj));
    const installed = await importModel({
      path: pair.modelPath,
      mmprojPath: outdatedMmproj,
      modelsDir,
      mode: 'symlink',
    });
    expect(installed.manifest.repairedMmproj).toBe(true);
    expect((await lstat(installed.mmprojPath)).isSymbolicLink()).toBe(false);
    expect((await inspectGguf(installed.mmprojPath)).projectorType).toBe('mlp');
    expect(sha256Hex(await readFile(outdatedMmproj))).toBe(originalHash);
  });

  it('refuses a mismatched or missing projector and leaves no half-installed folder', async () => {
    const modelsDir = join(root, 'data-bad', 'models');
    expect(
      await codeOf(importModel({ path: pair.modelPath, mmprojPath: wide.mmprojPath, modelsDir })),
    ).toBe('MMPROJ_WIDTH_MISMATCH');
    const lonely = join(root, 'lonely');
    await mkdir(lonely, { recursive: true });
    await copyFile(pair.modelPath, join(lonely, 'm.gguf'));
    expect(await codeOf(importModel({ path: join(lonely, 'm.gguf'), modelsDir }))).toBe(
      'MMPROJ_MISSING',
    );
    expect(await findInstalledModel(modelsDir, 'm')).toBeUndefined();
    expect((await listModels(modelsDir)).installed).toEqual([]);
  });
});

describe('discovery of models other apps downloaded', () => {
  it('finds pairs in LM Studio, Jan and llama.cpp folders and in Ollama manifests', async () => {
    const home = join(root, 'home');
    const lms = join(home, '.lmstudio', 'models', 'second-state', 'Llava-v1.5-7B-GGUF');
    await mkdir(lms, { recursive: true });
    await copyFile(pair.modelPath, join(lms, 'llava-v1.5-7b-Q4_K_M.gguf'));
    await copyFile(pair.mmprojPath, join(lms, 'llava-v1.5-7b-mmproj-model-f16.gguf'));
    const jan = join(home, 'jan', 'models', 'llava');
    await mkdir(jan, { recursive: true });
    await copyFile(pair.modelPath, join(jan, 'model.gguf'));
    await copyFile(outdatedMmproj, join(jan, 'mmproj.gguf'));
    const cache = join(home, '.cache', 'llama.cpp');
    await mkdir(cache, { recursive: true });
    await copyFile(wide.modelPath, join(cache, 'org_wide_model.gguf'));
    await copyFile(pair.mmprojPath, join(cache, 'org_tiny_mmproj.gguf'));

    const ollama = join(home, '.ollama', 'models');
    const modelBlob = `sha256:${sha256Hex(await readFile(pair.modelPath))}`;
    const projBlob = `sha256:${sha256Hex(await readFile(pair.mmprojPath))}`;
    await mkdir(join(ollama, 'blobs'), { recursive: true });
    await copyFile(pair.modelPath, join(ollama, 'blobs', modelBlob.replace(':', '-')));
    await copyFile(pair.mmprojPath, join(ollama, 'blobs', projBlob.replace(':', '-')));
    const manifestDir = join(ollama, 'manifests', 'registry.ollama.ai', 'library', 'llava');
    await mkdir(manifestDir, { recursive: true });
    await writeFile(
      join(manifestDir, '7b'),
      JSON.stringify({
        schemaVersion: 2,
        layers: [
          { mediaType: 'application/vnd.ollama.image.model', digest: modelBlob },
          { mediaType: 'application/vnd.ollama.image.projector', digest: projBlob },
          { mediaType: 'application/vnd.ollama.image.template', digest: 'sha256:00' },
        ],
      }),
    );

    const found = await discoverModels({
      roots: {
        lmstudio: [join(home, '.lmstudio', 'models'), join(home, '.cache', 'lm-studio', 'models')],
        jan: [join(home, 'jan', 'models')],
        'llama.cpp': [cache],
        ollama: [ollama],
      },
    });
    const bySource = Object.fromEntries(found.map((f) => [f.source, f]));
    expect(bySource.lmstudio).toMatchObject({
      status: 'ready',
      name: 'second-state/Llava-v1.5-7B-GGUF/llava-v1.5-7b-Q4_K_M',
      mmprojPath: join(lms, 'llava-v1.5-7b-mmproj-model-f16.gguf'),
    });
    expect(bySource.jan).toMatchObject({ status: 'needs-repair' });
    expect(bySource['llama.cpp']).toMatchObject({ status: 'no-mmproj' });
    expect(bySource.ollama).toMatchObject({ status: 'ready', name: 'llava:7b' });

    const modelsDir = join(root, 'data-discovered', 'models');
    const fromOllama = bySource.ollama;
    if (!fromOllama?.mmprojPath) throw new Error('ollama pair not found');
    const imported = await importModel({
      path: fromOllama.modelPath,
      mmprojPath: fromOllama.mmprojPath,
      modelsDir,
      mode: 'hardlink',
      id: 'llava-7b-from-ollama',
    });
    expect(imported.manifest.projectorType).toBe('mlp');
  });
});
