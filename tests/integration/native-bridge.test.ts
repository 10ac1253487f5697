// Integration test of the native multimodal bridge (native/ → llava_desk_mtmd.node) on a tiny
// synthetic LLaVA pair, including token-exact parity with upstream llama-mtmd-cli built from the
// same llama.cpp source. Needs `node scripts/build-native.mjs` to have run (it builds both).

import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makeLlavaPair, type LlavaPairResult } from '../../scripts/test-model/llava-pair.js';
import { MTMD_CLI, runMtmdCli } from '../support/mtmd-cli.js';
import {
  isNativeError,
  loadNativeBridge,
  type NativeAddon,
  type NativeBitmap,
  type NativeBridge,
  type NativeContext,
  type NativeGenerateResult,
  type NativeModel,
  type NativeMtmd,
} from '../../src-main/engine/native/binding.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NATIVE_BUILD = join(ROOT, 'native', 'build');

// Settings shared by the bridge and the CLI so both run the same numerics.
const N_CTX = 2048;
const N_BATCH = 2048;
const N_UBATCH = 512;
const N_THREADS = 2;
const N_PREDICT = 12;
const USER_PROMPT = 'Describe the image.';

interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Buffer;
  readonly pngPath: string;
}

/** Writes a PNG (lossless, so stb_image in the CLI decodes the same pixels) and decodes it back with sharp. */
async function makeImage(
  dir: string,
  name: string,
  width: number,
  height: number,
  pixel: (x: number, y: number, c: number) => number,
): Promise<RgbImage> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) raw[(y * width + x) * 3 + c] = pixel(x, y, c) & 255;
    }
  }
  const pngPath = join(dir, `${name}.png`);
  await sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toFile(pngPath);
  const { data, info } = await sharp(pngPath)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  expect(info.channels).toBe(3);
  return { width: info.width, height: info.height, data, pngPath };
}

async function expectNativeError(promise: Promise<unknown>, code: string): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    expect(isNativeError(error), `expected a native error, got ${String(error)}`).toBe(true);
    expect((error as { code: string }).code).toBe(code);
    return error as Error;
  }
  throw new Error(`expected rejection with ${code}`);
}

describe('native bridge (libmtmd over node-llama-cpp)', () => {
  let tmp: string;
  let pair: LlavaPairResult;
  let bridge: NativeBridge;
  let addon: NativeAddon;
  let model: NativeModel;
  let ctx: NativeContext;
  let mtmd: NativeMtmd;
  let imageA: RgbImage;
  let imageB: RgbImage;
  let marker: string;
  /** Same text mtmd-cli builds from the model's (vicuna-style) chat template for one user turn. */
  let chatPrompt: string;

  beforeAll(async () => {
    if (
      !existsSync(join(NATIVE_BUILD, 'linux-x64', 'llava_desk_mtmd.node')) ||
      !existsSync(MTMD_CLI)
    ) {
      throw new Error(
        'native bridge not built: run "npm run build:native" (node scripts/build-native.mjs) first',
      );
    }
    tmp = await mkdtemp(join(tmpdir(), 'llava-desk-native-'));
    pair = await makeLlavaPair({ outDir: tmp, preset: 'tiny', seed: 1234 });
    imageA = await makeImage(tmp, 'a', 64, 48, (x, y, c) => x * 4 + y * 3 + c * 85);
    imageB = await makeImage(
      tmp,
      'b',
      40,
      40,
      (x, y, c) => ((x >> 2) ^ (y >> 2)) * 37 + (c === 1 ? 200 : 0),
    );

    bridge = await loadNativeBridge({ gpu: false, logLevel: 'error' });
    addon = bridge.addon;
    model = await addon.loadModel(pair.modelPath);
    ctx = await addon.createContext(model, {
      nCtx: N_CTX,
      nBatch: N_BATCH,
      nUbatch: N_UBATCH,
      nThreads: N_THREADS,
      flashAttn: false,
    });
    mtmd = await addon.initMtmd(model, pair.mmprojPath, { nThreads: N_THREADS, flashAttn: false });
    marker = mtmd.getInfo().marker;
    chatPrompt = `USER: ${marker}${USER_PROMPT}\nASSISTANT:`;
  });

  afterAll(async () => {
    if (ctx && !ctx.disposed) ctx.dispose();
    if (mtmd && !mtmd.disposed) mtmd.dispose();
    if (model && !model.disposed) model.dispose();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  /** Fresh sequence 0: eval `prompt` with `bitmaps`, then greedy-generate. */
  async function evalAndGenerate(
    bitmaps: readonly NativeBitmap[],
    prompt = chatPrompt,
    maxTokens = N_PREDICT,
    onToken?: (token: number, text: string) => void,
  ): Promise<NativeGenerateResult> {
    ctx.kvClear();
    const ev = await mtmd.evalPrompt(ctx, 0, 0, prompt, bitmaps);
    expect(ev.logitsReady).toBe(true);
    return addon.generate(ctx, 0, ev.nPast, { maxTokens, temperature: 0 }, onToken);
  }

  it('loads through node-llama-cpp and reports backend, model and mmproj info', () => {
    expect(bridge.variant).toBe(`linux-${process.arch}`);
    expect(addon.variant).toBe(bridge.variant);
    const backend = addon.getBackendInfo();
    expect(backend.devices.some((d) => d.type === 'cpu')).toBe(true);

    const info = model.getInfo();
    expect(info.nEmbd).toBe(pair.llm.shape.nEmbd);
    expect(info.nVocab).toBe(pair.llm.shape.nVocab);
    expect(info.nCtxTrain).toBe(pair.llm.shape.nCtx);
    expect(info.architecture).toBe('llama');
    expect(info.chatTemplate).toContain('ASSISTANT:');
    expect(info.bos).toBe(1);
    expect(info.eos).toBe(2);

    const tokens = model.tokenize('hello world');
    expect(tokens.length).toBeGreaterThan(0);
    expect(model.detokenize(tokens)).toBe('hello world');
    expect(model.tokenize('hello', true)[0]).toBe(info.bos);

    const minfo = mtmd.getInfo();
    expect(minfo.supportsVision).toBe(true);
    expect(minfo.supportsAudio).toBe(false);
    expect(minfo.marker).toBe('<__media__>');
    expect(ctx.getInfo().nCtx).toBe(N_CTX);
  });

  it('reports a missing build with NATIVE_BRIDGE_MISSING', async () => {
    const error = await expectNativeError(
      loadNativeBridge({ llama: bridge.llama, nativeBuildDir: join(tmp, 'no-build') }),
      'NATIVE_BRIDGE_MISSING',
    );
    expect(error.message).toContain('npm run build:native');
  });

  it('evaluates a prompt with one image and greedy-generates deterministically', async () => {
    const bitmap = addon.createBitmap(imageA.width, imageA.height, imageA.data);
    ctx.kvClear();
    mtmd.clearCache();
    const ev = await mtmd.evalPrompt(ctx, 0, 0, chatPrompt, [bitmap]);
    expect(ev.imageTokens).toBe(pair.mmproj.imageTokens);
    expect(ev.textTokens).toBeGreaterThan(0);
    expect(ev.nPast).toBe(ev.imageTokens + ev.textTokens);
    expect(ev.chunks.map((c) => c.type)).toEqual(['text', 'image', 'text']);
    expect(ev.cachedImages).toBe(0);
    expect(ev.encodeMs).toBeGreaterThan(0);
    expect(ctx.kvPosMax(0)).toBe(ev.nPast - 1);

    const streamed: number[] = [];
    let streamedText = '';
    const first = await addon.generate(
      ctx,
      0,
      ev.nPast,
      { maxTokens: N_PREDICT, temperature: 0 },
      (t, text) => {
        if (t >= 0) streamed.push(t);
        streamedText += text;
      },
    );
    expect(first.tokens.length).toBeGreaterThan(0);
    expect(streamed).toEqual(first.tokens);
    expect(streamedText).toBe(first.text);
    if (first.stopReason === 'maxTokens') expect(first.tokens).toHaveLength(N_PREDICT);
    expect(first.nPast).toBe(ev.nPast + first.tokens.length);

    // same input again (the image embedding now comes from the cache) -> same tokens
    ctx.kvClear();
    const ev2 = await mtmd.evalPrompt(ctx, 0, 0, chatPrompt, [bitmap]);
    expect(ev2.cachedImages).toBe(1);
    const second = await addon.generate(ctx, 0, ev2.nPast, {
      maxTokens: N_PREDICT,
      temperature: 0,
    });
    expect(second.tokens).toEqual(first.tokens);
    expect(second.text).toBe(first.text);

    // and without the cache
    mtmd.clearCache();
    const third = await evalAndGenerate([bitmap]);
    expect(third.tokens).toEqual(first.tokens);
    bitmap.dispose();
  });

  it('gives different tokens for a different image', async () => {
    const a = addon.createBitmap(imageA.width, imageA.height, imageA.data);
    const b = addon.createBitmap(imageB.width, imageB.height, imageB.data);
    expect(a.id).not.toBe(b.id);
    const ra = await evalAndGenerate([a], chatPrompt, 16);
    const rb = await evalAndGenerate([b], chatPrompt, 16);
    expect(rb.tokens).not.toEqual(ra.tokens);
    a.dispose();
    b.dispose();
  });

  it('aborts a running generation', async () => {
    const bitmap = addon.createBitmap(imageA.width, imageA.height, imageA.data);
    let seen = 0;
    const result = await evalAndGenerate([bitmap], chatPrompt + ' word'.repeat(4), 1000, () => {
      seen++;
      if (seen === 3) ctx.abort();
    });
    // stopAtEog may end it earlier on a random model; otherwise it must stop right after the abort
    if (result.stopReason !== 'eog') {
      expect(result.stopReason).toBe('aborted');
      expect(result.tokens.length).toBeLessThanOrEqual(4);
    }
    expect(ctx.busy).toBe(false);

    // an abort with stopAtEog off is deterministic
    ctx.kvClear();
    const ev = await mtmd.evalPrompt(ctx, 0, 0, chatPrompt, [bitmap]);
    let count = 0;
    const r = await addon.generate(
      ctx,
      0,
      ev.nPast,
      { maxTokens: 1000, temperature: 0, stopAtEog: false },
      (t) => {
        if (t >= 0 && ++count === 5) ctx.abort();
      },
    );
    expect(r.stopReason).toBe('aborted');
    expect(r.tokens.length).toBeGreaterThanOrEqual(5);
    expect(r.tokens.length).toBeLessThan(1000);
    expect(ctx.kvPosMax(0)).toBe(r.nPast - 1);
    bitmap.dispose();
  });

  it('steps two sequences together with decodeStep, each as generate() answers it alone', async () => {
    const a = addon.createBitmap(imageA.width, imageA.height, imageA.data);
    const b = addon.createBitmap(imageB.width, imageB.height, imageB.data);
    const options = { maxTokens: 12, temperature: 0, stopAtEog: false };
    const alone = [
      await evalAndGenerate([a], chatPrompt, 12),
      await evalAndGenerate([b], chatPrompt, 12),
    ];
    const two = await addon.createContext(model, {
      nCtx: 2 * N_CTX,
      nSeqMax: 2,
      nThreads: N_THREADS,
      flashAttn: false,
    });
    const seqs = [];
    for (const [seqId, bitmap] of [a, b].entries()) {
      const ev = await mtmd.evalPrompt(two, seqId, 0, chatPrompt, [bitmap]);
      seqs.push({
        seqId,
        nPast: ev.nPast,
        logits: addon.readLogits(two),
        sampler: addon.createSampler(model, options),
        tokens: [] as number[],
      });
    }
    for (let step = 0; step < 12; step += 1) {
      const outcomes = await addon.decodeStep(two, seqs);
      for (const [i, outcome] of outcomes.entries()) {
        const seq = seqs[i]!;
        expect(outcome.stop).toBeNull();
        expect(outcome.piece).toBeInstanceOf(Uint8Array);
        seq.tokens.push(outcome.token);
        seq.nPast += 1;
        seq.logits = outcome.logits!;
      }
    }
    for (const [i, seq] of seqs.entries()) {
      expect(seq.tokens.slice(0, alone[i]!.tokens.length)).toEqual(alone[i]!.tokens);
      expect(two.kvPosMax(seq.seqId)).toBe(seq.nPast - 1);
    }
    expect(two.busy).toBe(false);

    // Typed refusals: a sampler from elsewhere, a sequence twice, logits of the wrong size.
    const entry = { ...seqs[0]!, sampler: addon.createSampler(model, options) };
    await expectNativeError(
      addon.decodeStep(two, [{ ...entry, sampler: {} as never }]),
      'INVALID_ARGUMENT',
    );
    await expectNativeError(addon.decodeStep(two, [entry, { ...entry }]), 'INVALID_ARGUMENT');
    await expectNativeError(
      addon.decodeStep(two, [{ ...entry, logits: new Float32Array(3) }]),
      'INVALID_ARGUMENT',
    );
    expect(() => addon.createSampler(model, { temperature: -1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    two.dispose();
    a.dispose();
    b.dispose();
  });

  it('rejects with the error a token callback throws, and runs no callback after it', async () => {
    const bitmap = addon.createBitmap(imageA.width, imageA.height, imageA.data);
    const sampling = { maxTokens: 1000, temperature: 0, stopAtEog: false };
    let calls = 0;
    ctx.kvClear();
    const ev = await mtmd.evalPrompt(ctx, 0, 0, chatPrompt, [bitmap]);
    const failure = new Error('the listener broke');
    await expect(
      addon.generate(ctx, 0, ev.nPast, sampling, () => {
        calls++;
        if (calls === 3) throw failure;
      }),
    ).rejects.toBe(failure);
    expect(calls).toBe(3);
    // stopped right there: the cache holds the prompt and at most the tokens already delivered
    expect(ctx.kvPosMax(0)).toBeLessThan(ev.nPast + 3);
    expect(ctx.busy).toBe(false);

    // generateMany the same way: the step whose callback threw is the last one delivered
    ctx.kvClear();
    const again = await mtmd.evalPrompt(ctx, 0, 0, chatPrompt, [bitmap]);
    let steps = 0;
    await expect(
      addon.generateMany(
        ctx,
        [{ seqId: 0, nPast: again.nPast, logits: addon.readLogits(ctx), options: sampling }],
        () => {
          steps++;
          if (steps === 2) throw failure;
        },
      ),
    ).rejects.toBe(failure);
    expect(steps).toBe(2);
    expect(ctx.kvPosMax(0)).toBeLessThan(again.nPast + 2);
    expect(ctx.busy).toBe(false);
    bitmap.dispose();
  });

  it('rejects bad files and bad inputs with typed errors', async () => {
    const modelBytes = await readFile(pair.modelPath);
    const mmprojBytes = await readFile(pair.mmprojPath);
    const truncatedModel = join(tmp, 'truncated-model.gguf');
    const truncatedMmproj = join(tmp, 'truncated-mmproj.gguf');
    const notGguf = join(tmp, 'not-gguf.gguf');
    await writeFile(truncatedModel, modelBytes.subarray(0, Math.floor(modelBytes.length / 2)));
    await writeFile(truncatedMmproj, mmprojBytes.subarray(0, mmprojBytes.length - 64));
    await writeFile(notGguf, 'this is not a gguf file\n'.repeat(10));

    await expectNativeError(addon.loadModel(join(tmp, 'missing.gguf')), 'MODEL_LOAD_FAILED');
    await expectNativeError(addon.loadModel(notGguf), 'MODEL_LOAD_FAILED');
    await expectNativeError(addon.loadModel(truncatedModel), 'MODEL_LOAD_FAILED');
    await expectNativeError(addon.loadModel(pair.mmprojPath), 'MODEL_LOAD_FAILED');

    await expectNativeError(addon.initMtmd(model, join(tmp, 'missing.gguf')), 'MMPROJ_LOAD_FAILED');
    await expectNativeError(addon.initMtmd(model, notGguf), 'MMPROJ_LOAD_FAILED');
    await expectNativeError(addon.initMtmd(model, truncatedMmproj), 'MMPROJ_LOAD_FAILED');
    await expectNativeError(addon.initMtmd(model, pair.modelPath), 'MMPROJ_LOAD_FAILED');

    expect(() => addon.createBitmap(4, 4, Buffer.alloc(10))).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    const bitmap = addon.createBitmap(imageA.width, imageA.height, imageA.data);
    await expectNativeError(
      mtmd.evalPrompt(ctx, 0, 0, 'no marker here', [bitmap]),
      'INVALID_ARGUMENT',
    );
    await expectNativeError(mtmd.evalPrompt(ctx, 5, 0, 'hi', []), 'INVALID_ARGUMENT');
    await expectNativeError(addon.generate(ctx, 0, 0, { temperature: -1 }), 'INVALID_ARGUMENT');

    // a prompt longer than the context
    const small = await addon.createContext(model, { nCtx: 256, nThreads: N_THREADS });
    await expectNativeError(generateTooLong(small, bitmap), 'CONTEXT_FULL');
    expect(small.kvPosMax(0)).toBe(-1); // rolled back / never started
    // generate before any prompt has produced logits
    await expectNativeError(addon.generate(small, 0, 0, { maxTokens: 2 }), 'NO_LOGITS');
    // one operation per context at a time
    const running = mtmd.evalPrompt(small, 0, 0, 'hello', []);
    await expectNativeError(mtmd.evalPrompt(small, 0, 0, 'again', []), 'CONTEXT_BUSY');
    await running;
    small.dispose();
    expect(() => small.getInfo()).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
    // the model cannot go while the context and mtmd built on it live
    expect(() => model.dispose()).toThrow(expect.objectContaining({ code: 'IN_USE' }));
    bitmap.dispose();
  });

  function generateTooLong(small: NativeContext, bitmap: NativeBitmap): Promise<unknown> {
    return mtmd.evalPrompt(small, 0, 0, `${chatPrompt}${' more words'.repeat(200)}`, [bitmap]);
  }

  it('matches llama-mtmd-cli token for token (greedy, same prompt and image)', async () => {
    for (const image of [imageA, imageB]) {
      const cli = await runMtmdCli({
        modelPath: pair.modelPath,
        mmprojPath: pair.mmprojPath,
        images: [image.pngPath],
        prompt: USER_PROMPT,
        maxTokens: N_PREDICT,
        threads: N_THREADS,
        contextSize: N_CTX,
        extraArgs: ['-b', String(N_BATCH), '-ub', String(N_UBATCH), '-fa', 'off', '--verbose'],
      });
      expect(cli.code, cli.stderr.slice(-2000)).toBe(0);
      // the CLI formats the single user turn with the model's template exactly as we do
      expect(cli.stderr).toContain(`formatted_chat.prompt: ${chatPrompt}\n`);

      const bitmap = addon.createBitmap(image.width, image.height, image.data);
      const ours = await evalAndGenerate([bitmap]);
      bitmap.dispose();

      // the pieces exactly as printed, and the "\n" the CLI adds when it stops at end of generation
      expect(cli.answer).toBe(`${ours.text}${ours.stopReason === 'eog' ? '\n' : ''}`);
      expect(ours.tokens.length).toBeGreaterThan(0);
    }
  });
});
