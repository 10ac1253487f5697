// The imaging pipeline against the real runtime pieces: an mmproj written by the test-model
// generator, libmtmd through the native bridge (the token budget must be the runtime's count),
// and a 24-megapixel photo.

import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLlavaPair, type LlavaPairResult } from '../../scripts/test-model/llava-pair.js';
import {
  loadNativeBridge,
  type NativeContext,
  type NativeModel,
  type NativeMtmd,
  type NativeAddon,
  type NativeBitmap,
} from '../../src-main/engine/native/binding.js';
import {
  CLIP_MEAN,
  anyResCandidates,
  estimateTokenCounter,
  planForEncoder,
  planImage,
  planTokens,
  prepareForEncoder,
  readEncoderSpec,
  type EncoderSpec,
  type TokenCounter,
} from '../../src-main/imaging/index.js';
import { detailed, jpeg, png, quadrants } from '../fixtures/image-corpus.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
// The benchmark build of the addon: the product's classes plus libmtmd's own tokenizer
// (mtmdTokenize, native/bench/), which gives the runtime's exact token counts.
const BENCH_NATIVE_DIR = join(ROOT, 'native', 'build', 'bench');
const ADDON = join(BENCH_NATIVE_DIR, `linux-${process.arch}`, 'llava_desk_mtmd.node');

describe('imaging with the runtime', () => {
  let tmp: string;
  let pair: LlavaPairResult;
  let spec: EncoderSpec;
  let addon: NativeAddon;
  let model: NativeModel;
  let ctx: NativeContext;
  let mtmd: NativeMtmd;

  beforeAll(async () => {
    if (!existsSync(ADDON)) {
      throw new Error('native bridge not built: run "node scripts/build-native.mjs" first');
    }
    tmp = await mkdtemp(join(tmpdir(), 'llava-desk-imaging-runtime-'));
    pair = await makeLlavaPair({ outDir: tmp, preset: 'tiny', seed: 7 });
    spec = await readEncoderSpec(pair.mmprojPath);
    addon = (
      await loadNativeBridge({ gpu: false, logLevel: 'error', nativeBuildDir: BENCH_NATIVE_DIR })
    ).addon;
    model = await addon.loadModel(pair.modelPath);
    ctx = await addon.createContext(model, { nCtx: 1024, nThreads: 2, flashAttn: false });
    mtmd = await addon.initMtmd(model, pair.mmprojPath, { nThreads: 2, flashAttn: false });
  });

  afterAll(async () => {
    if (ctx && !ctx.disposed) ctx.dispose();
    if (mtmd && !mtmd.disposed) mtmd.dispose();
    if (model && !model.disposed) model.dispose();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('the shipped addon carries none of the benchmark functions', async () => {
    const { createRequire } = await import('node:module');
    const product = createRequire(import.meta.url)(
      join(ROOT, 'native', 'build', `linux-${process.arch}`, 'llava_desk_mtmd.node'),
    ) as Record<string, unknown>;
    expect(typeof product['initMtmd']).toBe('function');
    expect(product['mtmdTokenize']).toBeUndefined();
    expect(product['mtmdBitmapFromFile']).toBeUndefined();
    expect(typeof (addon as unknown as Record<string, unknown>)['mtmdTokenize']).toBe('function');
  });

  it('reads the encoder facts of a real mmproj', () => {
    expect(spec).toMatchObject({
      imageSize: 56,
      patchSize: 14,
      projectorType: 'mlp',
      gridPinpoints: [],
    });
    spec.imageMean?.forEach((value, i) => expect(value).toBeCloseTo(CLIP_MEAN[i] ?? 0, 6));
  });

  it.each(['standard', 'high'] as const)(
    'hands libmtmd %s bitmaps whose token count is the one planned',
    async (detail) => {
      const image = await prepareForEncoder(
        { bytes: await png(quadrants(200, 100)), name: 'wide.png' },
        { detail, encoder: spec },
      );
      expect(image.bitmaps.every((b) => b.width === 56 && b.height === 56)).toBe(true);
      const bitmaps = image.bitmaps.map((b) => mtmd.createBitmap(b.width, b.height, b.data));
      const marker = mtmd.getInfo().marker;
      ctx.kvClear();
      const result = await mtmd.evalPrompt(
        ctx,
        0,
        0,
        `USER: ${marker.repeat(bitmaps.length)}\nWhat is this? ASSISTANT:`,
        bitmaps,
      );
      bitmaps.forEach((b) => b.dispose());
      expect(result.chunks.filter((c) => c.type === 'image')).toHaveLength(image.bitmaps.length);
      expect(result.imageTokens).toBe(image.tokens);
      expect(image.tokens).toBe((detail === 'high' ? 3 : 1) * 16);
    },
  );

  it("agrees with the runtime's own count through an injected TokenCounter (mtmdTokenize)", async () => {
    const bench = addon as NativeAddon & {
      mtmdTokenize?: (
        mtmd: NativeMtmd,
        text: string,
        bitmaps: readonly NativeBitmap[],
      ) => Promise<{ imageTokens: number }>;
    };
    const tokenize = bench.mtmdTokenize;
    if (!tokenize) throw new Error('native bridge without mtmdTokenize: rebuild it');
    const counter: TokenCounter = {
      exact: true,
      async countImageTokens({ width, height }) {
        const bitmap = mtmd.createBitmap(width, height, Buffer.alloc(width * height * 3));
        const { imageTokens } = await tokenize(mtmd, mtmd.getInfo().marker, [bitmap]);
        bitmap.dispose();
        return imageTokens;
      },
    };
    for (const detail of ['standard', 'high'] as const) {
      const input = { bytes: await png(quadrants(300, 100)), name: 'wide.png' };
      const exact = await planForEncoder(input, { detail, encoder: spec, tokenCounter: counter });
      const estimated = await planForEncoder(input, { detail, encoder: spec });
      expect(exact.tokensExact).toBe(true);
      expect(exact.tokens).toBe(estimated.tokens);
    }
  });

  it('prepares a 24-megapixel JPEG quickly and without holding it at full size', async () => {
    const width = 6000;
    const height = 4000;
    const photo = await jpeg(detailed(width, height));
    for (const detail of ['standard', 'high'] as const) {
      const started = performance.now();
      const image = await prepareForEncoder({ bytes: photo, name: 'big.jpg' }, { detail });
      const seconds = (performance.now() - started) / 1000;
      expect([image.width, image.height]).toEqual([width, height]);
      expect(image.bitmaps.length).toBe(detail === 'high' ? 5 : 1); // 2 x 2 tiles at 672 x 672
      expect(seconds).toBeLessThan(10);
    }
  });
});

// LLaVA-1.6 files: libmtmd tiles the bitmap itself and (with llava-desk's patch 0003) packs the
// tiles as LLaVA-NeXT does. The budget the app shows must be what the runtime counts, for sizes
// that unpad rows, columns, nothing, and for a bitmap no larger than one tile.
describe('LLaVA-1.6 token budget against the runtime', () => {
  let tmp: string;
  let spec: EncoderSpec;
  let addon: NativeAddon;
  let model: NativeModel;
  let mtmd: NativeMtmd;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'llava-desk-imaging-runtime-16-'));
    const pair = await makeLlavaPair({
      outDir: tmp,
      preset: 'tiny',
      seed: 7,
      vision: { gridPinpoints: anyResCandidates(56), imageNewline: true },
    });
    spec = await readEncoderSpec(pair.mmprojPath);
    addon = (
      await loadNativeBridge({ gpu: false, logLevel: 'error', nativeBuildDir: BENCH_NATIVE_DIR })
    ).addon;
    model = await addon.loadModel(pair.modelPath);
    mtmd = await addon.initMtmd(model, pair.mmprojPath, { nThreads: 2, flashAttn: false });
  });

  afterAll(async () => {
    if (mtmd && !mtmd.disposed) mtmd.dispose();
    if (model && !model.disposed) model.dispose();
    await rm(tmp, { recursive: true, force: true });
  });

  it('reads the pinpoints and v.image_newline', () => {
    expect(spec.gridPinpoints).toEqual(anyResCandidates(56));
    expect(spec.imageNewline).toBe(true);
  });

  it.each([
    [112, 112],
    [112, 75],
    [20, 112],
    [300, 200],
    [1000, 37],
    [2000, 1500],
    [56, 40],
  ])('%i x %i: the estimate is the runtime count', async (width, height) => {
    const tokenize = (
      addon as NativeAddon & {
        mtmdTokenize?: (
          mtmd: NativeMtmd,
          text: string,
          bitmaps: readonly NativeBitmap[],
        ) => Promise<{ imageTokens: number }>;
      }
    ).mtmdTokenize;
    if (!tokenize) throw new Error('native bridge without mtmdTokenize: rebuild it');
    const runtime: TokenCounter = {
      exact: true,
      async countImageTokens(size) {
        const bitmap = mtmd.createBitmap(
          size.width,
          size.height,
          Buffer.alloc(size.width * size.height * 3),
        );
        const { imageTokens } = await tokenize(mtmd, mtmd.getInfo().marker, [bitmap]);
        bitmap.dispose();
        return imageTokens;
      },
    };
    const plan = planImage({ width, height }, spec, 'high');
    const estimated = await planTokens(plan, estimateTokenCounter(spec));
    expect(await planTokens(plan, runtime)).toBe(estimated);
    // worked out by hand (4 x 4 tokens a tile): 2 x 2 tiles, nothing to unpad: 16 + 8 * 8 + 8;
    // 75 * 8 / 112 = 5.36 -> 5, padding 1: 16 + 6 * 8 + 6; 1 x 2 tiles, 20 * 8 / 112 = 1.43 -> 1,
    // padding 1: 16 + 8 * 2 + 8; one tile: 16
    const byHand: Record<string, number> = {
      '112x112': 88,
      '112x75': 70,
      '20x112': 40,
      '56x40': 16,
    };
    const expected = byHand[`${width}x${height}`];
    if (expected !== undefined) expect(estimated).toBe(expected);
  });
});
