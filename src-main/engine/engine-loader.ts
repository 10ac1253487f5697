// Loads what an engine runs on: checks the pair, plans its fit (GPU layers, context size), loads
// the model, the context and the projector, picks the prompt template, and describes the result;
// and frees those parts again, in one order, on a failed load and on dispose.
import type { EngineInfo, EngineLoadOptions } from '../api/engine.js';
import { LlavaDeskError } from '../common/errors.js';
import { planModelFit } from '../models/fit/plan-model-fit.js';
import { validatePair } from '../models/pairing.js';
import {
  installFilesFor,
  loadNativeBridge,
  loadRememberedBridge,
  type NativeBridge,
  type NativeContext,
  type NativeModel,
  type NativeMtmd,
} from './native/binding.js';
import {
  forgetStart,
  rememberStart,
  rememberedStart,
  type FitRequestKey,
  type RememberedStart,
} from './native/startup-memo.js';
import type { PromptTemplate } from './prompt/conversation.js';
import { jinjaTemplate } from './prompt/jinja-template.js';
import { vicunaV1 } from './prompt/vicuna-v1.js';

/** A loaded model, its context and projector, the template it is prompted with. */
export interface EngineParts {
  info: EngineInfo;
  bridge: NativeBridge;
  model: NativeModel;
  context: NativeContext;
  mtmd: NativeMtmd;
  template: PromptTemplate;
}

export async function loadEngineParts(options: EngineLoadOptions): Promise<EngineParts> {
  const request: FitRequestKey = {
    modelPath: options.modelPath,
    mmprojPath: options.mmprojPath,
    gpuLayers: options.gpuLayers ?? 'auto',
    contextSize: options.contextSize ?? 'auto',
  };
  // gpuLayers 0 asks getLlama() for the CPU variant; a remembered GPU variant is not that.
  const wantsGpu = options.gpuLayers !== 0;
  const memo = options.startupMemoPath;
  const found = memo
    ? await rememberedStart(memo, (r) => installFilesFor(r.variant, r.binsDir), request)
    : undefined;
  const remembered = found && (wantsGpu || found.runtime.gpu === false) ? found : undefined;
  // Typed errors for missing, truncated, mismatched or outdated files before llama.cpp sees them
  // (checked while the backends load). The addon checks the files' integrity again when it opens
  // them (native/src/common.h ValidateGguf): not a repeat by choice but its own precondition at
  // the moment of loading; the codes a user acts on come from here.
  const [, bridge] = await Promise.all([
    validatePair(options.modelPath, options.mmprojPath),
    startBridge(remembered, memo, wantsGpu),
  ]);
  const threads = options.threads ?? Math.max(1, bridge.cpuMathCores);
  // GgufInsights sizes what 'auto' leaves open for this machine's RAM and VRAM (nothing is
  // left open on a CPU-only machine asked for a given context size); a remembered start brings
  // the plan it made for these files before.
  const onGpu = bridge.gpu !== false;
  const needsFit =
    (onGpu && typeof options.gpuLayers !== 'number') || typeof options.contextSize !== 'number';
  const planned =
    needsFit && !remembered?.fit
      ? await planModelFit({ ...request, llama: bridge.llama })
      : undefined;
  const fit = needsFit ? (remembered?.fit ?? planned) : undefined;
  if (memo && bridge.startup === 'probed' && bridge.binsDir && (wantsGpu || !onGpu)) {
    const files = installFilesFor(bridge.variant, bridge.binsDir);
    const runtime = {
      variant: bridge.variant,
      gpu: bridge.gpu,
      binsDir: bridge.binsDir,
      cpuMathCores: bridge.cpuMathCores,
    };
    if (files) {
      await rememberStart(
        memo,
        files,
        runtime,
        planned
          ? {
              request,
              fit: {
                gpuLayers: planned.gpuLayers,
                contextSize: planned.contextSize,
                expectedRamBytes: planned.expectedRamBytes,
                ...(planned.trainContextSize !== undefined
                  ? { trainContextSize: planned.trainContextSize }
                  : {}),
              },
            }
          : undefined,
      );
    }
  }
  const gpuLayers = !onGpu
    ? 0
    : typeof options.gpuLayers === 'number'
      ? options.gpuLayers
      : (fit?.gpuLayers ?? 0);
  const model = await bridge.addon.loadModel(options.modelPath, { nGpuLayers: gpuLayers });
  let context: NativeContext | undefined;
  let mtmd: NativeMtmd | undefined;
  try {
    const parallel = Math.max(1, options.parallel ?? 1);
    const perSequence =
      typeof options.contextSize === 'number' ? options.contextSize : (fit?.contextSize ?? 4096);
    // The projector loads (mostly reading its weights) while the context allocates.
    const [created, initialised] = await Promise.allSettled([
      bridge.addon.createContext(model, {
        nCtx: perSequence * parallel,
        nSeqMax: parallel,
        nThreads: threads,
        nThreadsBatch: threads,
        // A buffer per sequence: each token attends only to its own sequence's cells, not to
        // every cached conversation (shared prefixes are still copied, as whole buffers cut to
        // length).
        kvUnified: false,
      }),
      bridge.addon.initMtmd(model, options.mmprojPath, {
        nThreads: threads,
        useGpu: gpuLayers > 0,
        cacheEntries: 16,
        ...(options.encoderFlashAttn === 'on' || options.encoderFlashAttn === 'off'
          ? { flashAttn: options.encoderFlashAttn === 'on' }
          : {}),
      }),
    ]);
    if (created.status === 'fulfilled') context = created.value;
    if (initialised.status === 'fulfilled') mtmd = initialised.value;
    if (created.status === 'rejected') throw created.reason;
    if (initialised.status === 'rejected') throw initialised.reason;
    return assemble(options, bridge, model, created.value, initialised.value, {
      gpuLayers,
      parallel,
      threads,
    });
  } catch (error) {
    disposeEngineParts({ model, context, mtmd });
    throw error;
  }
}

/**
 * The bridge for a load: the remembered variant when there is one and it loads, else probed by
 * getLlama(). A remembered start that fails is forgotten: probing in the same process finds the
 * backends it did load (the same variant's, for the usual CPU case); where it had loaded another
 * variant's libraries the probe fails with NATIVE_BRIDGE_MISMATCH and the next start is clean.
 */
async function startBridge(
  remembered: RememberedStart | undefined,
  memo: string | undefined,
  wantsGpu: boolean,
): Promise<NativeBridge> {
  if (remembered && memo) {
    try {
      return await loadRememberedBridge(remembered.runtime);
    } catch {
      await forgetStart(memo);
    }
  }
  return loadNativeBridge({ gpu: wantsGpu ? 'auto' : false });
}

/** Frees what was loaded: the projector and the context before the model they were made from. */
export function disposeEngineParts(parts: {
  model: NativeModel;
  context?: NativeContext | undefined;
  mtmd?: NativeMtmd | undefined;
}): void {
  parts.mtmd?.dispose();
  parts.context?.dispose();
  parts.model.dispose();
}

/** The loaded parts as an engine's; throws (the caller frees them) for a pair it cannot use. */
function assemble(
  options: EngineLoadOptions,
  bridge: NativeBridge,
  model: NativeModel,
  context: NativeContext,
  mtmd: NativeMtmd,
  sizes: { gpuLayers: number; parallel: number; threads: number },
): EngineParts {
  const { gpuLayers, parallel, threads } = sizes;
  const mtmdInfo = mtmd.getInfo();
  if (!mtmdInfo.supportsVision) {
    throw new LlavaDeskError(
      'MODEL_NOT_VISION',
      `${options.mmprojPath} has no vision encoder, so this pair cannot read images.`,
    );
  }
  const template = chooseTemplate(options.template ?? 'auto', model);
  const modelInfo = model.getInfo();
  return {
    bridge,
    model,
    context,
    mtmd,
    template,
    info: {
      variant: bridge.variant,
      startup: bridge.startup,
      gpu: bridge.gpu,
      gpuLayers,
      contextSize: context.getInfo().nCtxSeq,
      parallel,
      threads,
      template: template.name,
      imageMarker: mtmdInfo.marker,
      model: {
        path: options.modelPath,
        description: modelInfo.description,
        parameters: modelInfo.nParams,
        embeddingLength: modelInfo.nEmbd,
      },
    },
  };
}

/** LLaVA-1.5's vicuna_v1 for a GGUF without a chat template, its own Jinja template otherwise. */
function chooseTemplate(choice: 'auto' | 'vicuna_v1' | 'gguf', model: NativeModel): PromptTemplate {
  const info = model.getInfo();
  if (choice === 'vicuna_v1' || (choice === 'auto' && !info.chatTemplate)) return vicunaV1;
  if (!info.chatTemplate) {
    throw new LlavaDeskError('INVALID_ARGUMENT', 'This model carries no chat template of its own.');
  }
  return jinjaTemplate({
    source: info.chatTemplate,
    bosToken: model.tokenToPiece(info.bos, true),
    eosToken: model.tokenToPiece(info.eos, true),
  });
}
