import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, type Llama } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLlavaPair, type LlavaPairResult } from '../../scripts/test-model/llava-pair.js';
import { planModelFit } from '../../src-main/models/fit/plan-model-fit.js';

let dir: string;
let pair: LlavaPairResult;
let llama: Llama;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-fit-'));
  pair = await makeLlavaPair({ outDir: dir, seed: 5 });
  llama = await getLlama({ gpu: false });
});
afterAll(async () => {
  await llama.dispose();
  await rm(dir, { recursive: true, force: true });
});

const GB = 1e9;

describe('auto-fit to the machine', () => {
  it('plans a CPU-only load that counts the projector in RAM', async () => {
    const plan = await planModelFit({
      modelPath: pair.modelPath,
      mmprojPath: pair.mmprojPath,
      llama,
      hardware: { ram: { total: 8 * GB, free: 6 * GB } },
    });
    expect(plan.fits).toBe(true);
    expect(plan.gpuLayers).toBe(0);
    expect(plan.contextSize).toBe(2048);
    expect(plan.expectedVramBytes).toBe(0);
    expect(plan.mmproj.onGpu).toBe(false);
    expect(plan.mmproj.weightsBytes).toBe(pair.mmproj.bytes);
    expect(plan.mmproj.imageTokens).toBe(pair.mmproj.imageTokens);
    expect(plan.expectedRamBytes).toBeGreaterThan(pair.mmproj.bytes + plan.mmproj.computeBytes);
  });

  it('honours the user overrides for context size', async () => {
    const plan = await planModelFit({
      modelPath: pair.modelPath,
      mmprojPath: pair.mmprojPath,
      llama,
      contextSize: 1024,
      gpuLayers: 0,
      hardware: { ram: { total: 8 * GB, free: 6 * GB } },
    });
    expect(plan).toMatchObject({ contextSize: 1024, gpuLayers: 0, fits: true });
  });

  it('does not call a context beyond the training length a memory problem', async () => {
    const plan = await planModelFit({
      modelPath: pair.modelPath,
      mmprojPath: pair.mmprojPath,
      llama,
      contextSize: 32768,
      gpuLayers: 0,
      hardware: { ram: { total: 8 * GB, free: 6 * GB } },
    });
    expect(plan).toMatchObject({ contextSize: 32768, fits: true, problems: [] });
  });

  it('says it does not fit when memory is too small, with the reason', async () => {
    const plan = await planModelFit({
      modelPath: pair.modelPath,
      mmprojPath: pair.mmprojPath,
      llama,
      hardware: { ram: { total: 1_000_000, free: 500_000 }, swap: { total: 0, free: 0 } },
    });
    expect(plan.fits).toBe(false);
    expect(plan.problems.length).toBeGreaterThan(0);
  });

  it('estimates a LLaVA-1.5 sized projector compute buffer in a sane range', async () => {
    const { estimateMmprojMemory } = await import('../../src-main/models/fit/mmproj-memory.js');
    const { readGgufFileInfo } = await import('node-llama-cpp');
    const info = await readGgufFileInfo(pair.mmprojPath, { logWarnings: false });
    const tiny = estimateMmprojMemory(info, 1000);
    expect(tiny.imageTokens).toBe(16);
    // The ViT-L/14-336 shape (577 tokens, width 1024, 16 heads): tens of MB, not GB.
    const metadata = {
      ...info.metadata,
      clip: {
        vision: {
          image_size: 336,
          patch_size: 14,
          embedding_length: 1024,
          feed_forward_length: 4096,
          attention: { head_count: 16 },
        },
      },
    };
    const big = estimateMmprojMemory({ ...info, metadata } as typeof info, 624e6);
    expect(big.imageTokens).toBe(576);
    expect(big.computeBytes).toBeGreaterThan(30e6);
    expect(big.computeBytes).toBeLessThan(300e6);
  });
});
