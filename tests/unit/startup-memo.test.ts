import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  rememberStart,
  rememberedStart,
  type FitRequestKey,
  type InstallFiles,
  type RememberedRuntime,
} from '../../src-main/engine/native/startup-memo.js';

// The memo decides whether an engine may start without node-llama-cpp; a wrong "yes" loads the
// wrong backends or a context that no longer fits, a wrong "no" only costs the probe.

let dir: string;
let files: InstallFiles;
let memo: string;
let request: FitRequestKey;
const cpu: RememberedRuntime = {
  variant: 'linux-x64',
  gpu: false,
  binsDir: '/bins',
  cpuMathCores: 2,
};
const cuda: RememberedRuntime = { ...cpu, variant: 'linux-x64-cuda', gpu: 'cuda' };
const fit = { gpuLayers: 0, contextSize: 2048, expectedRamBytes: 1024, trainContextSize: 2048 };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-memo-'));
  files = {
    addonPath: join(dir, 'addon.node'),
    buildInfoPath: join(dir, 'build-info.json'),
    libraryPath: join(dir, 'libllama.so'),
  };
  for (const path of Object.values(files)) await writeFile(path, 'x');
  await writeFile(join(dir, 'model.gguf'), 'model');
  await writeFile(join(dir, 'mmproj.gguf'), 'mmproj');
  memo = join(dir, 'data', 'engine-start.json');
  request = {
    modelPath: join(dir, 'model.gguf'),
    mmprojPath: join(dir, 'mmproj.gguf'),
    gpuLayers: 'auto',
    contextSize: 'auto',
  };
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const filesFor = (): InstallFiles => files;

describe('the remembered start', () => {
  it('is not there before a probed start wrote it, and is there after', async () => {
    expect(await rememberedStart(memo, filesFor, request)).toBeUndefined();
    await rememberStart(memo, files, cpu, { request, fit });
    expect(await rememberedStart(memo, filesFor, request)).toEqual({ runtime: cpu, fit });
  });

  it('is not used once the addon or its library changed (another install)', async () => {
    await rememberStart(memo, files, cpu, { request, fit });
    await utimes(files.libraryPath, new Date(), new Date(Date.now() + 60_000));
    expect(await rememberedStart(memo, filesFor, request)).toBeUndefined();
  });

  it('keeps a plan only for the files it was made for', async () => {
    await rememberStart(memo, files, cpu, { request, fit });
    await writeFile(request.modelPath, 'another model');
    expect(await rememberedStart(memo, filesFor, request)).toBeUndefined();
    // An explicit context needs no plan: the variant alone is enough on the CPU.
    expect(await rememberedStart(memo, filesFor, { ...request, contextSize: 1024 })).toEqual({
      runtime: cpu,
    });
  });

  it('does not reuse a plan that memory cut short or that no longer fits', async () => {
    await rememberStart(memo, files, cpu, { request, fit: { ...fit, contextSize: 1024 } });
    expect(await rememberedStart(memo, filesFor, request)).toBeUndefined();
    await rememberStart(memo, files, cpu, {
      request,
      fit: { ...fit, expectedRamBytes: Number.MAX_SAFE_INTEGER },
    });
    expect(await rememberedStart(memo, filesFor, request)).toBeUndefined();
  });

  it('starts a GPU variant only with explicit layers and context (free VRAM needs the probe)', async () => {
    await rememberStart(memo, files, cuda, { request, fit });
    expect(await rememberedStart(memo, filesFor, request)).toBeUndefined();
    expect(
      await rememberedStart(memo, filesFor, { ...request, gpuLayers: 99, contextSize: 4096 }),
    ).toEqual({ runtime: cuda });
  });

  it('ignores a damaged memo and writes a whole one over it', async () => {
    await rememberStart(memo, files, cpu);
    await writeFile(memo, '{"version":1,"install":');
    expect(await rememberedStart(memo, filesFor, { ...request, contextSize: 512 })).toBeUndefined();
    await rememberStart(memo, files, cpu, { request, fit });
    expect(JSON.parse(await readFile(memo, 'utf8'))).toMatchObject({ runtime: cpu });
  });

  it('keeps the plans of other pairs, up to sixteen, the newest last', async () => {
    for (let i = 0; i < 18; i += 1) {
      const model = join(dir, `model-${i}.gguf`);
      await writeFile(model, `model ${i}`);
      await rememberStart(memo, files, cpu, {
        request: { ...request, modelPath: model },
        fit: { ...fit, expectedRamBytes: i },
      });
    }
    const kept = JSON.parse(await readFile(memo, 'utf8')) as { fits: Record<string, unknown> };
    expect(Object.keys(kept.fits)).toHaveLength(16);
    const first = { ...request, modelPath: join(dir, 'model-0.gguf') };
    const last = { ...request, modelPath: join(dir, 'model-17.gguf') };
    expect(await rememberedStart(memo, filesFor, first)).toBeUndefined();
    expect((await rememberedStart(memo, filesFor, last))?.fit?.expectedRamBytes).toBe(17);
  });
});
