// The native bridge's fallback where no prebuilt node-llama-cpp variant can be linked: forced here
// with LLAVA_DESK_NATIVE_FROM_SOURCE=1, scripts/build-native.mjs builds node-llama-cpp from its
// bundled llama.cpp source (its own `source download` / `source build` commands), links the
// bridge against that build, and the bridge then loads and answers on the tiny LLaVA pair.
//
// Slow (node-llama-cpp compiles all of llama.cpp: this file took 24 minutes from scratch on a shared
// 2-core machine; `source build` alone took 39 minutes there under heavier load), so it is its own
// suite: `npm run test:native-fallback` (CI runs it; .ci/run too).
// Linux only: it exercises the same code path the other systems take when their prebuilt
// binaries cannot be linked.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProcess, type ProcessRun } from '../../scripts/lib/run-process.js';
import { makeLlavaPair, type LlavaPairResult } from '../../scripts/test-model/llava-pair.js';
import {
  loadNativeBridge,
  type NativeBridge,
  type NativeContext,
  type NativeModel,
  type NativeMtmd,
} from '../../src-main/engine/native/binding.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LOCAL_BUILDS = join(ROOT, 'node_modules', 'node-llama-cpp', 'llama', 'localBuilds');
const LOCAL_BUILD = join(LOCAL_BUILDS, `linux-${process.arch}`);

let tmp: string;
let nativeDir: string;
let build: ProcessRun;
let localBuildExisted: boolean;
let pair: LlavaPairResult;
let bridge: NativeBridge;
let model: NativeModel;
let ctx: NativeContext;
let mtmd: NativeMtmd;

async function rgb(pixel: (x: number, y: number, c: number) => number) {
  const [width, height] = [48, 40];
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) raw[(y * width + x) * 3 + c] = pixel(x, y, c) & 255;
  // through sharp as the app decodes images
  const png = await sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

async function answer(image: { width: number; height: number; data: Buffer }) {
  const bitmap = bridge.addon.createBitmap(image.width, image.height, image.data);
  ctx.kvClear();
  mtmd.clearCache();
  const prompt = `USER: ${mtmd.getInfo().marker}Describe the image.\nASSISTANT:`;
  const ev = await mtmd.evalPrompt(ctx, 0, 0, prompt, [bitmap]);
  const result = await bridge.addon.generate(ctx, 0, ev.nPast, { maxTokens: 12, temperature: 0 });
  bitmap.dispose();
  return { ...result, imageTokens: ev.imageTokens };
}

beforeAll(async () => {
  if (process.platform !== 'linux') throw new Error('the source-build fallback test runs on Linux');
  localBuildExisted = existsSync(LOCAL_BUILD);
  tmp = await mkdtemp(join(tmpdir(), 'llava-desk-native-fallback-'));
  nativeDir = join(tmp, 'native');
  build = await runProcess(
    process.execPath,
    [join(ROOT, 'scripts', 'build-native.mjs'), '--variant', `linux-${process.arch}`],
    {
      ...process.env,
      LLAVA_DESK_NATIVE_FROM_SOURCE: '1',
      LLAVA_DESK_NATIVE_SOURCE_GPU: 'false',
      // keeps the regular build (native/build, linked against the prebuilt binaries) untouched
      LLAVA_DESK_NATIVE_DIR: nativeDir,
    },
    ROOT,
  );
  if (build.code !== 0) return;
  pair = await makeLlavaPair({ outDir: join(tmp, 'pair'), preset: 'tiny', seed: 99 });
  // node-llama-cpp prefers a local build over the prebuilt binaries, as the app does by default
  bridge = await loadNativeBridge({ gpu: false, nativeBuildDir: nativeDir, logLevel: 'error' });
  model = await bridge.addon.loadModel(pair.modelPath);
  ctx = await bridge.addon.createContext(model, {
    nCtx: 1024,
    nBatch: 1024,
    nUbatch: 512,
    nThreads: 2,
    flashAttn: false,
  });
  mtmd = await bridge.addon.initMtmd(model, pair.mmprojPath, { nThreads: 2, flashAttn: false });
}, 3_600_000);

afterAll(async () => {
  ctx?.dispose();
  mtmd?.dispose();
  model?.dispose();
  await bridge?.llama?.dispose();
  // The regular bridge (native/build) is linked against the prebuilt binaries: a local build left
  // behind would be loaded instead of them by every later test run.
  if (!localBuildExisted) await rm(LOCAL_BUILD, { recursive: true, force: true });
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('native bridge linked against node-llama-cpp built from source', () => {
  it('builds node-llama-cpp from its bundled source and links the bridge against it', async () => {
    expect(build.code, `${build.stdout}\n${build.stderr}`).toBe(0);
    expect(build.stdout).toContain(
      'linking against node-llama-cpp built from its bundled source (LLAVA_DESK_NATIVE_FROM_SOURCE=1)',
    );
    const info = JSON.parse(
      await readFile(join(nativeDir, `linux-${process.arch}`, 'build-info.json'), 'utf8'),
    ) as { binsDir: string; libs: string[]; source?: string };
    expect(info.source).toBe('node-llama-cpp source build');
    expect(info.binsDir.startsWith(LOCAL_BUILD)).toBe(true);
    expect(existsSync(join(nativeDir, `linux-${process.arch}`, 'llava_desk_mtmd.node'))).toBe(true);
  });

  it('loads next to the libllama node-llama-cpp loaded from that build', () => {
    expect(bridge.variant).toBe(`linux-${process.arch}`);
    const maps = readFileSync('/proc/self/maps', 'utf8');
    const libllama = maps
      .split('\n')
      .map((l) => l.slice(l.indexOf('/')))
      .filter((p) => /\/libllama[^/]*\.so$/.test(p));
    expect(libllama.length).toBeGreaterThan(0);
    expect(libllama.every((p) => p.startsWith(LOCAL_BUILD))).toBe(true);
  });

  it('answers about an image on the tiny model: deterministic and image-dependent', async () => {
    const a = await rgb((x, y, c) => x * 5 + y * 3 + c * 80);
    const b = await rgb((x, y, c) => ((x >> 2) ^ (y >> 2)) * 37 + (c === 1 ? 200 : 0));
    const first = await answer(a);
    expect(first.imageTokens).toBe(pair.mmproj.imageTokens);
    expect(first.tokens.length).toBeGreaterThan(0);
    expect((await answer(a)).tokens).toEqual(first.tokens);
    expect((await answer(b)).tokens).not.toEqual(first.tokens);
  });
});
