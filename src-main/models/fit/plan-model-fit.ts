import { freemem, totalmem } from 'node:os';
import { stat } from 'node:fs/promises';
import type { Llama } from 'node-llama-cpp';
import { estimateMmprojMemory, type MmprojMemory } from './mmproj-memory.js';

export interface MemoryState {
  total: number;
  free: number;
}

/** What the machine has; defaults come from the `Llama` instance and the OS. */
export interface HardwareState {
  ram: MemoryState;
  vram: MemoryState;
  swap?: MemoryState;
}

export interface FitRequest {
  modelPath: string;
  mmprojPath: string;
  /** `auto` (default) lets the resolver choose; a number is taken as the user's override. */
  gpuLayers?: 'auto' | number;
  contextSize?: 'auto' | number;
  /** The runtime the plan is for (`getLlama({gpu: false})` on a CPU-only machine). */
  llama?: Llama;
  /** Overrides of the measured memory (tests, "what if" in the UI). */
  hardware?: Partial<HardwareState>;
}

export interface FitPlan {
  gpuLayers: number;
  contextSize: number;
  expectedRamBytes: number;
  expectedVramBytes: number;
  fits: boolean;
  /** Why it does not fit (empty when it does). */
  problems: string[];
  totalLayers: number;
  trainContextSize?: number;
  mmproj: MmprojMemory & { onGpu: boolean };
  /** The resolver's 0..1 compatibility score. */
  score: number;
}

/** Headroom on top of one image's tokens so a question and an answer fit too. */
const MIN_TEXT_TOKENS = 512;

async function measuredHardware(llama: Llama | undefined): Promise<HardwareState> {
  const vram = llama ? await llama.getVramState() : { total: 0, free: 0 };
  const swap = llama ? await llama.getSwapState() : { allocated: 0, used: 0 };
  return {
    ram: { total: totalmem(), free: freemem() },
    vram: { total: vram.total, free: vram.free },
    swap: { total: swap.allocated, free: Math.max(0, swap.allocated - swap.used) },
  };
}

/**
 * Picks GPU layers and a context size for an LLM + projector on this machine with
 * node-llama-cpp's GgufInsights, after setting aside the projector's weights and compute buffer
 * (on the GPU when layers go there, else in RAM). The UI shows the plan before loading; the user
 * may override `gpuLayers` and `contextSize`.
 */
export async function planModelFit(request: FitRequest): Promise<FitPlan> {
  // Imported here, not at the top: an engine started from a remembered plan never needs it
  // (loading node-llama-cpp's modules takes about half a second).
  const { GgufInsights, readGgufFileInfo } = await import('node-llama-cpp');
  const [modelInfo, mmprojInfo, mmprojStat] = await Promise.all([
    readGgufFileInfo(request.modelPath, { sourceType: 'filesystem', logWarnings: false }),
    readGgufFileInfo(request.mmprojPath, { sourceType: 'filesystem', logWarnings: false }),
    stat(request.mmprojPath),
  ]);
  const insights = await GgufInsights.from(modelInfo, request.llama);
  const measured = await measuredHardware(request.llama);
  const hardware: HardwareState = { ...measured, ...request.hardware };
  const swap = hardware.swap ?? { total: 0, free: 0 };
  const gpuCapable = (request.llama?.gpu ?? false) !== false && hardware.vram.total > 0;
  const mmproj = estimateMmprojMemory(mmprojInfo, mmprojStat.size);
  const mmprojBytes = mmproj.weightsBytes + mmproj.computeBytes;
  const wantsGpu = gpuCapable && request.gpuLayers !== 0;
  const less = (state: MemoryState, bytes: number): MemoryState => ({
    total: state.total,
    free: Math.max(0, state.free - bytes),
  });

  const resolved = await insights.configurationResolver.resolveAndScoreConfig(
    {
      targetGpuLayers: typeof request.gpuLayers === 'number' ? request.gpuLayers : undefined,
      targetContextSize: typeof request.contextSize === 'number' ? request.contextSize : undefined,
    },
    {
      getRamState: async () => (wantsGpu ? hardware.ram : less(hardware.ram, mmprojBytes)),
      getVramState: async () => ({
        ...(wantsGpu ? less(hardware.vram, mmprojBytes) : hardware.vram),
        unifiedSize: 0,
      }),
      getSwapState: async () => swap,
      llamaGpu: gpuCapable ? (request.llama?.gpu ?? false) : false,
      llamaSupportsGpuOffloading: gpuCapable,
    },
  );
  const values = resolved.resolvedValues;
  const onGpu = gpuCapable && values.gpuLayers > 0;
  const expectedRamBytes = values.totalRamUsage + (onGpu ? 0 : mmprojBytes);
  const expectedVramBytes = values.totalVramUsage + (onGpu ? mmprojBytes : 0);

  const problems: string[] = [];
  // The resolver also scores a context beyond the training length 0: a quality caveat, not a
  // memory problem, so that case is judged by the memory figures below alone.
  const train = insights.trainContextSize;
  const beyondTraining =
    typeof request.contextSize === 'number' && train !== undefined && request.contextSize > train;
  if (resolved.compatibilityScore === 0 && !beyondTraining) {
    problems.push('the model and context do not fit in memory');
  }
  if (expectedRamBytes > hardware.ram.total + swap.total) {
    problems.push(
      `needs about ${expectedRamBytes} bytes of RAM, the machine has ${hardware.ram.total}`,
    );
  }
  if (expectedVramBytes > hardware.vram.total && expectedVramBytes > 0) {
    problems.push(
      `needs about ${expectedVramBytes} bytes of VRAM, the GPU has ${hardware.vram.total}`,
    );
  }
  const minContext = mmproj.imageTokens + MIN_TEXT_TOKENS;
  if (values.contextSize < minContext) {
    problems.push(
      `a context of ${values.contextSize} tokens cannot hold an image (${mmproj.imageTokens} tokens) and a reply`,
    );
  }
  return {
    gpuLayers: values.gpuLayers,
    contextSize: values.contextSize,
    expectedRamBytes,
    expectedVramBytes,
    fits: problems.length === 0,
    problems,
    totalLayers: insights.totalLayers,
    trainContextSize: insights.trainContextSize,
    mmproj: { ...mmproj, onGpu },
    score: resolved.compatibilityScore,
  };
}
