// Test tooling: measures how far the image embeddings llava-desk feeds the LLM are from LLaVA's
// reference computation (clip-reference.ts), for generated CLIP/MLP pairs of several shapes, and
// how far the unpatched upstream libmtmd is. Used by tests/integration/vision-parity.test.ts and
// `npm run vision-parity` (docs/UPSTREAM.md).

import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { CliIo } from '../../src-main/cli/io.js';
import { main } from '../../src-main/cli/main.js';
import { runProcess } from '../lib/run-process.js';
import {
  makeLlavaPair,
  type MmprojTensorType,
  type VisionShape,
} from '../test-model/llava-pair.js';
import { embedAnyRes, readPinpoints } from './anyres-reference.js';
import { LlavaReference, type ReferenceEmbeddings } from './clip-reference.js';

export interface ParityCase {
  readonly name: string;
  readonly vision: Partial<VisionShape>;
  readonly mmprojType: MmprojTensorType;
}

/**
 * Written as LLaVA-1.5's converter writes a plain CLIP (no feature_layer key): image and patch
 * sizes, patch bias or none, quick GELU (OpenAI CLIP) or GELU, F32 or F16 weights.
 */
export const PARITY_CASES: readonly ParityCase[] = (
  [
    {
      name: '42px/14, 2 blocks, quick GELU, F32 (the issue)',
      vision: { imageSize: 42, patchSize: 14, nLayer: 3, useGelu: false, patchBias: false },
      mmprojType: 'f32',
    },
    {
      name: '56px/8, 3 blocks, GELU, patch bias, F16',
      vision: { imageSize: 56, patchSize: 8, nLayer: 4, useGelu: true, patchBias: true },
      mmprojType: 'f16',
    },
    {
      name: '64px/16, 2 blocks, GELU, patch bias, F32',
      vision: { imageSize: 64, patchSize: 16, nLayer: 3, useGelu: true, patchBias: true },
      mmprojType: 'f32',
    },
    {
      name: '48px/12, 4 blocks, quick GELU, F16',
      vision: { imageSize: 48, patchSize: 12, nLayer: 5, useGelu: false, patchBias: false },
      mmprojType: 'f16',
    },
  ] satisfies ParityCase[]
).map((c) => ({ ...c, vision: { ...c.vision, featureLayerKey: false } }));

export interface Difference {
  readonly maxAbs: number;
  /** maxAbs / the largest |reference value|. */
  readonly relative: number;
}

export interface ParityResult {
  readonly name: string;
  readonly tokens: number;
  readonly width: number;
  readonly referenceMaxAbs: number;
  /** `llava-desk embed` (the app's engine, patched libmtmd) against the reference. */
  readonly app: Difference;
  /** The same with the encoder's flash attention off (ggml's CPU flash attention uses f16 K/V). */
  readonly appNoFlashAttn: Difference;
  /** The diagnostic driver on the patched libmtmd, against the app's own output. */
  readonly driverVsApp: Difference;
  /** The same driver on the unpatched upstream libmtmd, against the reference. */
  readonly upstream: Difference;
  /** The unpatched driver against the reference computing both deviations on purpose. */
  readonly upstreamVsDeviations: Difference;
  /** The reference with only patch 0001's fix (class token first, one block short). */
  readonly classTokenFirstOnly: Difference;
  /** The app against the reference with ggml's GELU in the projector instead of erf GELU. */
  readonly appVsGgmlGelu: Difference;
  /** What the projector's activation alone moves the reference: erf GELU vs ggml's. */
  readonly geluEffect: Difference;
}

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const EMBED_DRIVER = join(ROOT, 'native', 'build', 'bin', 'llava-desk-mtmd-embed');
export const EMBED_DRIVER_UPSTREAM = `${EMBED_DRIVER}-upstream`;

export function difference(
  actual: ArrayLike<number>,
  reference: ArrayLike<number>,
  referenceMaxAbs: number,
): Difference {
  if (actual.length !== reference.length) {
    throw new Error(`${actual.length} values against ${reference.length} in the reference`);
  }
  let maxAbs = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs((actual[i] ?? 0) - (reference[i] ?? 0));
    if (!(d <= maxAbs)) maxAbs = d; // NaN counts as the largest difference
  }
  return { maxAbs, relative: maxAbs / referenceMaxAbs };
}

function maxAbsOf(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i] ?? 0));
  return m;
}

/** A deterministic, busy RGB picture (gradients plus noise) saved as PNG, which is lossless. */
async function makeImage(
  path: string,
  size: number,
  seed: number,
  height = size,
): Promise<Uint8Array> {
  const width = size;
  const rgb = new Uint8Array(width * height * 3);
  let state = seed >>> 0;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      rgb[i] = Math.min(255, Math.floor((x / width) * 200 + next() * 55));
      rgb[i + 1] = Math.min(255, Math.floor((y / height) * 200 + next() * 55));
      rgb[i + 2] = Math.floor(next() * 256);
    }
  }
  await sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } })
    .png()
    .toFile(path);
  return rgb;
}

async function readF32(path: string): Promise<Float32Array> {
  const bytes = await readFile(path);
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}

async function runEmbedCli(args: string[]): Promise<{ tokens: number; width: number }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (s) => (out += s), err: (s) => (err += s), isTty: false };
  const code = await main(['node', 'llava-desk', 'embed', ...args], io);
  if (code !== 0) throw new Error(`llava-desk embed exited ${code}: ${err}`);
  return JSON.parse(out) as { tokens: number; width: number };
}

/** Runs an embed driver (patched or upstream) on one pair and image, writing `out`. */
async function runDriver(
  binary: string,
  pair: { modelPath: string; mmprojPath: string },
  imagePath: string,
  out: string,
): Promise<{ tokens: number; width: number }> {
  const args = ['-m', pair.modelPath, '--mmproj', pair.mmprojPath, '--image', imagePath];
  const run = await runProcess(binary, [...args, '-o', out, '-t', '2']);
  if (run.code !== 0) throw new Error(`${binary} exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as { tokens: number; width: number };
}

/** Generates the case's pair and image under `dir` and measures every difference. */
export async function runParityCase(
  parity: ParityCase,
  dir: string,
  seed = 7,
): Promise<ParityResult> {
  await mkdir(dir, { recursive: true });
  const pair = await makeLlavaPair({
    outDir: dir,
    seed,
    vision: parity.vision,
    mmprojType: parity.mmprojType,
  });
  const size = pair.mmproj.shape.imageSize;
  const imagePath = join(dir, 'image.png');
  const rgb = await makeImage(imagePath, size, seed);

  const files = ['--model', pair.modelPath, '--mmproj', pair.mmprojPath, '--image', imagePath];
  const appOut = join(dir, 'app.f32');
  const app = await runEmbedCli([
    ...files,
    '--out',
    appOut,
    '--threads',
    '2',
    '--data-dir',
    join(dir, 'data'),
  ]);
  const appNoFaOut = join(dir, 'app-no-fa.f32');
  await runEmbedCli([
    ...files,
    '--out',
    appNoFaOut,
    '--threads',
    '2',
    '--flash-attn',
    'off',
    '--data-dir',
    join(dir, 'data'),
  ]);
  const driverOut = join(dir, 'driver.f32');
  await runDriver(EMBED_DRIVER, pair, imagePath, driverOut);
  const upstreamOut = join(dir, 'upstream.f32');
  await runDriver(EMBED_DRIVER_UPSTREAM, pair, imagePath, upstreamOut);

  const reference = await LlavaReference.load(pair.mmprojPath);
  const ref: ReferenceEmbeddings = reference.embed(rgb, { width: size, height: size });
  const at = { width: size, height: size };
  const refGgml = reference.embed(rgb, at, { projectorGelu: 'ggml' });
  const refBothDeviations = reference.embed(rgb, at, {
    deviations: { classTokenLast: true, oneBlockShort: true },
  });
  const refOneBlockShort = reference.embed(rgb, at, { deviations: { oneBlockShort: true } });
  if (app.tokens !== ref.tokens || app.width !== ref.width) {
    throw new Error(
      `embed gave ${app.tokens}x${app.width}, the reference ${ref.tokens}x${ref.width}`,
    );
  }
  const [appData, appNoFaData, driverData, upstreamData] = await Promise.all([
    readF32(appOut),
    readF32(appNoFaOut),
    readF32(driverOut),
    readF32(upstreamOut),
  ]);
  const refMax = maxAbsOf(ref.data);
  return {
    name: parity.name,
    tokens: app.tokens,
    width: app.width,
    referenceMaxAbs: refMax,
    app: difference(appData, ref.data, refMax),
    appNoFlashAttn: difference(appNoFaData, ref.data, refMax),
    driverVsApp: difference(driverData, appData, refMax),
    upstream: difference(upstreamData, ref.data, refMax),
    upstreamVsDeviations: difference(upstreamData, refBothDeviations.data, refMax),
    classTokenFirstOnly: difference(refOneBlockShort.data, ref.data, refMax),
    appVsGgmlGelu: difference(appData, refGgml.data, refMax),
    geluEffect: difference(refGgml.data, ref.data, refMax),
  };
}

/** A LLaVA-1.6-shaped pair: 42 px encoder, patch 14 (3 x 3 tokens a tile), the 1.6 grids. */
export const ANYRES_VISION: Partial<VisionShape> = {
  imageSize: 42,
  patchSize: 14,
  nLayer: 3,
  useGelu: false,
  patchBias: false,
  featureLayerKey: false,
  // LLaVA-1.6's 336x672, 672x336, 672x672, 1008x336, 336x1008 scaled to a 42 px tile
  gridPinpoints: [
    [42, 84],
    [84, 42],
    [84, 84],
    [126, 42],
    [42, 126],
  ],
  imageNewline: true,
};

export interface AnyResCase {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly imageNewline: boolean;
  /** Tokens LLaVA-NeXT feeds the LLM, worked out by hand (docs/UPSTREAM.md). */
  readonly tokens: number;
  /** Tokens unpatched libmtmd emits: (1 + tiles) x 9, the tiles first, the overview last. */
  readonly upstreamTokens: number;
}

/**
 * Image sizes whose tiles need no resampling: the refined image is the input pasted (scale 1)
 * onto the chosen resolution, so only the overview is resized (Pillow's bicubic on both sides).
 */
export const ANYRES_CASES: readonly AnyResCase[] = [
  // 2 x 2 tiles, nothing to unpad: 9 + 6 * 6 + 6
  {
    name: '84x84 (2x2 tiles, no padding)',
    width: 84,
    height: 84,
    imageNewline: true,
    tokens: 51,
    upstreamTokens: 45,
  },
  // 2 x 2 tiles, 14 black rows: unpad keeps rows 1..4 of 6: 9 + 4 * 6 + 4
  {
    name: '84x56 (2x2 tiles, rows unpadded)',
    width: 84,
    height: 56,
    imageNewline: true,
    tokens: 37,
    upstreamTokens: 45,
  },
  // 1 x 2 tiles, 28 black columns: unpad keeps column 1 of 3: 9 + 6 * 1 + 6
  {
    name: '14x84 (1x2 tiles, columns unpadded)',
    width: 14,
    height: 84,
    imageNewline: true,
    tokens: 21,
    upstreamTokens: 27,
  },
  // the same pair without v.image_newline: 9 + 4 * 6
  {
    name: '84x56 without image_newline',
    width: 84,
    height: 56,
    imageNewline: false,
    tokens: 33,
    upstreamTokens: 45,
  },
];

export interface AnyResResult {
  readonly name: string;
  readonly tokens: number;
  readonly referenceTokens: number;
  readonly width: number;
  readonly referenceMaxAbs: number;
  /** `llava-desk embed --detail high` against the reference (flash attention off). */
  readonly appNoFlashAttn: Difference;
  /** The same with llama.cpp's default flash attention. */
  readonly app: Difference;
  /** Tokens the unpatched upstream driver gives, and how far it is when the counts agree. */
  readonly upstreamTokens: number;
  readonly upstream: Difference | undefined;
}

/** Generates a LLaVA-1.6-shaped pair and an image of the case's size and measures the packing. */
export async function runAnyResCase(
  parity: AnyResCase,
  dir: string,
  seed = 11,
): Promise<AnyResResult> {
  await mkdir(dir, { recursive: true });
  const pair = await makeLlavaPair({
    outDir: dir,
    seed,
    vision: { ...ANYRES_VISION, imageNewline: parity.imageNewline },
    mmprojType: 'f32',
  });
  const imagePath = join(dir, 'image.png');
  const rgb = await makeImage(imagePath, parity.width, seed, parity.height);
  const files = ['--model', pair.modelPath, '--mmproj', pair.mmprojPath, '--image', imagePath];
  const common = ['--detail', 'high', '--threads', '2', '--data-dir', join(dir, 'data')];
  const appOut = join(dir, 'app.f32');
  const app = await runEmbedCli([...files, '--out', appOut, ...common]);
  const appNoFaOut = join(dir, 'app-no-fa.f32');
  await runEmbedCli([...files, '--out', appNoFaOut, ...common, '--flash-attn', 'off']);
  const upstreamOut = join(dir, 'upstream.f32');
  const upstream = await runDriver(EMBED_DRIVER_UPSTREAM, pair, imagePath, upstreamOut);

  const reference = await LlavaReference.load(pair.mmprojPath);
  const ref = embedAnyRes(
    reference,
    { width: parity.width, height: parity.height, data: rgb },
    await readPinpoints(pair.mmprojPath),
  );
  const refMax = maxAbsOf(ref.data);
  const compare = async (path: string, tokens: number): Promise<Difference | undefined> =>
    tokens === ref.tokens ? difference(await readF32(path), ref.data, refMax) : undefined;
  const noMatch: Difference = { maxAbs: Infinity, relative: Infinity };
  return {
    name: parity.name,
    tokens: app.tokens,
    referenceTokens: ref.tokens,
    width: app.width,
    referenceMaxAbs: refMax,
    app: (await compare(appOut, app.tokens)) ?? noMatch,
    appNoFlashAttn: (await compare(appNoFaOut, app.tokens)) ?? noMatch,
    upstreamTokens: upstream.tokens,
    upstream: await compare(upstreamOut, upstream.tokens),
  };
}
