import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  getLlama,
  LlamaCompletion,
  LlamaLogLevel,
  readGgufFileInfo,
  type Llama,
  type LlamaModel,
} from 'node-llama-cpp';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MTMD_CLI, cliAnswer, runMtmdCli } from '../support/mtmd-cli.js';

import {
  CLIP_IMAGE_MEAN,
  makeLlavaPair,
  type LlavaPairResult,
  type LlmTensorType,
} from '../../scripts/test-model/llava-pair.js';

// One thread: on a 2-core machine llama.cpp's spinning worker threads are slower than a single
// one for a 64-wide model by two orders of magnitude.
const THREADS = 1;
const N_TOKENS = 24;

// Upstream llama-mtmd-cli built from the same llama.cpp source, when available.

let dir = '';
let llama: Llama;
const pairs = new Map<LlmTensorType, LlavaPairResult>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tiny-pair-test-'));
  for (const llmType of ['f16', 'q8_0', 'q4_0'] as const) {
    pairs.set(llmType, await makeLlavaPair({ outDir: join(dir, llmType), seed: 42, llmType }));
  }
  llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
});

afterAll(async () => {
  await llama?.dispose();
  await rm(dir, { recursive: true, force: true });
});

function pair(type: LlmTensorType): LlavaPairResult {
  const p = pairs.get(type);
  if (!p) throw new Error(`no ${type} pair`);
  return p;
}

async function greedy(model: LlamaModel, prompt: string): Promise<string> {
  const context = await model.createContext({ contextSize: 512, threads: THREADS });
  try {
    const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
    return await completion.generateCompletion(prompt, { maxTokens: N_TOKENS, temperature: 0 });
  } finally {
    await context.dispose();
  }
}

describe('tiny LLaVA pair', () => {
  it('has the expected GGUF metadata and tensors', async () => {
    const { modelPath, mmprojPath, llm, mmproj } = pair('f16');
    const lm = await readGgufFileInfo(modelPath, { logWarnings: false });
    const lmMeta = lm.metadata as unknown as Record<string, Record<string, unknown>>;
    expect(lmMeta.general?.architecture).toBe('llama');
    expect(lmMeta.llama).toMatchObject({
      context_length: 2048,
      embedding_length: 64,
      block_count: 2,
      feed_forward_length: 128,
      attention: { head_count: 4, head_count_kv: 2 },
    });
    expect(lmMeta.tokenizer?.ggml).toMatchObject({
      model: 'llama',
      bos_token_id: 1,
      eos_token_id: 2,
      unknown_token_id: 0,
      add_bos_token: true,
    });
    expect((lmMeta.tokenizer?.ggml as { tokens: string[] }).tokens).toHaveLength(llm.shape.nVocab);
    const lmTensors = new Map(lm.tensorInfo?.map((t) => [t.name, t.dimensions.map(Number)]));
    expect(lmTensors.get('token_embd.weight')).toEqual([64, llm.shape.nVocab]);
    expect(lmTensors.get('blk.1.attn_k.weight')).toEqual([64, 32]);
    expect(lmTensors.get('blk.1.ffn_down.weight')).toEqual([128, 64]);
    expect(lmTensors.get('output.weight')).toEqual([64, llm.shape.nVocab]);
    expect(lmTensors.size).toBe(3 + 9 * 2);

    const mp = await readGgufFileInfo(mmprojPath, { logWarnings: false });
    const mpMeta = mp.metadata as unknown as Record<string, Record<string, unknown>>;
    expect(mpMeta.general?.architecture).toBe('clip');
    expect(mpMeta.clip).toMatchObject({
      projector_type: 'mlp',
      has_vision_encoder: true,
      has_llava_projector: true,
      use_gelu: false,
      vision: {
        image_size: 56,
        patch_size: 14,
        embedding_length: 64,
        feed_forward_length: 128,
        block_count: 2,
        feature_layer: [2],
        attention: { head_count: 4 },
      },
    });
    const mean = (mpMeta.clip?.vision as { image_mean: number[] }).image_mean;
    mean.forEach((v, i) => expect(v).toBeCloseTo(CLIP_IMAGE_MEAN[i] ?? 0, 6));
    const mpTensors = new Map(mp.tensorInfo?.map((t) => [t.name, t.dimensions.map(Number)]));
    expect(mpTensors.get('v.patch_embd.weight')).toEqual([14, 14, 3, 64]);
    expect(mpTensors.get('v.position_embd.weight')).toEqual([64, mmproj.imageTokens + 1]);
    expect(mpTensors.get('mm.0.weight')).toEqual([64, llm.shape.nEmbd]);
    expect(mpTensors.get('mm.2.weight')).toEqual([llm.shape.nEmbd, llm.shape.nEmbd]);
    expect(mpTensors.has('v.blk.1.ffn_up.weight')).toBe(true);
    expect(mpTensors.has('v.blk.2.ffn_up.weight')).toBe(false);
  });

  it('tokenises and detokenises arbitrary text round-trip', async () => {
    const model = await llama.loadModel({ modelPath: pair('f16').modelPath });
    try {
      for (const text of [
        'The image shows a red car.',
        'Grüße, naïve café — 🦙🚗 日本語 العربية',
        '  leading spaces,\ttabs\nand\r\nnewlines  ',
        '\u0000\u0001 control bytes \uFFFD',
      ]) {
        const tokens = model.tokenize(text);
        expect(model.detokenize(tokens)).toBe(text);
      }
      // Common words are single pieces; the rest falls back to bytes.
      expect(model.tokenize('the image').length).toBeLessThanOrEqual(3);
      expect(model.tokenize('🦙').length).toBeGreaterThanOrEqual(4);
      const withBos = model.tokenize('hi', true);
      expect(model.tokens.bos).toBe(1);
      expect(withBos.length).toBeGreaterThan(0);
    } finally {
      await model.dispose();
    }
  });

  it.each(['f16', 'q8_0', 'q4_0'] as const)(
    '%s LLM generates deterministic, non-degenerate greedy text',
    async (type) => {
      const model = await llama.loadModel({ modelPath: pair(type).modelPath });
      try {
        const prompt = 'USER: describe the image\nASSISTANT:';
        const first = await greedy(model, prompt);
        const second = await greedy(model, prompt);
        expect(second).toBe(first);
        const tokens = model.tokenize(first, false);
        expect(tokens.length).toBeGreaterThanOrEqual(N_TOKENS / 2);
        expect(new Set(tokens).size).toBeGreaterThan(5);
        expect(await greedy(model, 'A small dog')).not.toBe(first);
      } finally {
        await model.dispose();
      }
    },
  );
});

async function writeImage(path: string, pixel: (x: number, y: number) => number[]): Promise<void> {
  const size = 96;
  const raw = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) raw.set(pixel(x, y), (y * size + x) * 3);
  }
  await sharp(raw, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toFile(path);
}

// `npm install` builds llama-mtmd-cli (scripts/build-native.mjs); its absence is a failure.
describe('tiny LLaVA pair in llama-mtmd-cli', () => {
  it('finds the upstream CLI built by npm install', () => {
    expect(existsSync(MTMD_CLI), `${MTMD_CLI} missing: run npm run build:native`).toBe(true);
  });

  it('loads the mmproj and the greedy answer depends on the image', async () => {
    const { modelPath, mmprojPath } = pair('f16');
    const gradient = join(dir, 'gradient.png');
    const checker = join(dir, 'checker.png');
    await writeImage(gradient, (x, y) => [(255 * x) / 96, 40, 255 - (255 * y) / 96]);
    await writeImage(checker, (x, y) =>
      ((x >> 4) + (y >> 4)) % 2 ? [20, 220, 40] : [250, 250, 250],
    );
    const describeImage = async (image: string): Promise<string> => {
      const run = await runMtmdCli({
        modelPath,
        mmprojPath,
        images: [image],
        prompt: 'describe',
        maxTokens: 16,
        threads: 1,
      });
      expect(run.code, run.stderr.slice(-1500)).toBe(0);
      return cliAnswer(run).trim();
    };
    const a = await describeImage(gradient);
    const b = await describeImage(checker);
    expect(a.length).toBeGreaterThan(10);
    expect(b.length).toBeGreaterThan(10);
    expect(a).not.toBe(b);
    expect(await describeImage(gradient)).toBe(a);
  });
});
