import { dataLayout } from '../common/data-dir.js';
import { EngineClient } from '../engine/engine-client.js';
import { readEncoderSpec, type EncoderSpec } from '../imaging/index.js';
import type { EngineInfo } from '../api/engine.js';
import { BatchJob, type BatchEngine } from './job.js';
import { defaultMaxTokens } from './presets.js';
import type { JobOptions } from './types.js';

export interface EngineJobSetup {
  modelPath: string;
  mmprojPath: string;
  /** The data folder (job state goes to its `jobs/`). */
  dataDir: string;
  /** Images in flight at once (sequences of one context). Default 4. */
  parallel?: number;
  threads?: number;
  /** Tokens per sequence. Default: what one image, the prompt and the answer need. */
  contextSize?: number;
  /** An engine process to use (the app's); default: a new one, shut down by close(). */
  engine?: EngineClient;
}

export const DEFAULT_PARALLEL = 4;

/**
 * Per-sequence context: image tokens, the prompt, the answer. High detail costs at most 2928
 * image tokens: LLaVA-1.6's 2 x 2 grid packed as the reference packs it (576 + 48 x 48 + 48,
 * docs/UPSTREAM.md); LLaVA-1.5's app tiling at most 5 x 576 = 2880.
 */
export function batchContextSize(options: JobOptions): number {
  const image = options.detail === 'high' ? 2928 : 576;
  const needed = image + 256 + (options.maxTokens ?? defaultMaxTokens(options));
  return Math.ceil(needed / 256) * 256;
}

/**
 * A job whose images are described in the engine process (a crash there costs the images in
 * flight one more try, never the job's state): loads the model with `parallel` sequences and reads the
 * projector's encoder settings for the imaging step.
 */
export async function openEngineJob(
  options: JobOptions,
  setup: EngineJobSetup,
): Promise<{ job: BatchJob; close(): void }> {
  const parallel = Math.max(1, setup.parallel ?? DEFAULT_PARALLEL);
  const engine = setup.engine ?? new EngineClient();
  const close = (): void => {
    if (!setup.engine) engine.dispose();
  };
  try {
    const encoder = await readEncoderSpec(setup.mmprojPath);
    const info = await engine.load({
      modelPath: setup.modelPath,
      mmprojPath: setup.mmprojPath,
      parallel,
      contextSize: setup.contextSize ?? batchContextSize(options),
      startupMemoPath: dataLayout(setup.dataDir).engineStartFile,
      ...(setup.threads !== undefined ? { threads: setup.threads } : {}),
    });
    const job = jobOnLoadedEngine(options, { ...setup, engine, info, encoder });
    return { job, close };
  } catch (error) {
    close();
    throw error;
  }
}

/**
 * A job on an engine already loaded with the job's sequences (the app's shared engine, loaded by
 * its EngineHost).
 */
export function jobOnLoadedEngine(
  options: JobOptions,
  setup: {
    engine: BatchEngine;
    info: Pick<EngineInfo, 'parallel'>;
    modelPath: string;
    encoder: EncoderSpec;
    dataDir: string;
  },
): BatchJob {
  return new BatchJob(options, {
    engine: setup.engine,
    parallel: setup.info.parallel,
    modelPath: setup.modelPath,
    encoder: setup.encoder,
    jobsDir: dataLayout(setup.dataDir).jobs,
  });
}
