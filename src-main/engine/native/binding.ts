// Loader and hand-written types for the llava-desk native bridge (native/ → llava_desk_mtmd.node).
//
// The addon is linked against the prebuilt libllama/libggml of one node-llama-cpp binary variant.
// Two ways to load it: probed (loadNativeBridge: node-llama-cpp's getLlama() picks the variant
// and loads its backends, then the addon built for that variant is loaded and shares that
// llama/ggml instance) or remembered (loadRememberedBridge: a variant getLlama() picked on an
// earlier start, see startup-memo.ts; the addon loads the backends itself and node-llama-cpp is
// never imported). Build the addons with `npm run build:native` (scripts/build-native.mjs).

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Llama, LlamaOptions } from 'node-llama-cpp';

import type { NativeErrorCode } from '../../api/errors.js';

// ---------------------------------------------------------------------------------------------
// Errors

/** Codes set by the addon (`err.code`) plus those of the loader below: one list, in api/errors.ts. */
export type { NativeErrorCode };

/** Shape of every error the addon rejects or throws with. */
export interface NativeError extends Error {
  readonly code: NativeErrorCode;
}

export function isNativeError(error: unknown): error is NativeError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string';
}

export class NativeBridgeError extends Error implements NativeError {
  readonly code: NativeErrorCode;

  constructor(code: NativeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NativeBridgeError';
    this.code = code;
  }
}

// ---------------------------------------------------------------------------------------------
// Addon types

export interface NativeModelInfo {
  readonly nEmbd: number;
  readonly nEmbdInp: number;
  readonly nCtxTrain: number;
  readonly nVocab: number;
  readonly nParams: number;
  readonly sizeBytes: number;
  /** -1 when the vocabulary has none. */
  readonly bos: number;
  readonly eos: number;
  readonly eot: number;
  readonly addBos: boolean;
  /** `tokenizer.chat_template` from the GGUF, if any. */
  readonly chatTemplate: string | null;
  readonly description: string;
  readonly architecture: string;
  readonly path: string;
}

export interface NativeModel {
  getInfo(): NativeModelInfo;
  /** Defaults: addSpecial false, parseSpecial true. */
  tokenize(text: string, addSpecial?: boolean, parseSpecial?: boolean): number[];
  /** Defaults: removeSpecial false, unparseSpecial true. */
  detokenize(tokens: readonly number[], removeSpecial?: boolean, unparseSpecial?: boolean): string;
  /** Default: special true (special tokens rendered). */
  tokenToPiece(token: number, special?: boolean): string;
  isEog(token: number): boolean;
  /** Throws IN_USE while contexts or mtmd contexts built on it are alive. */
  dispose(): void;
  readonly disposed: boolean;
}

export interface NativeLoadModelOptions {
  /** Layers to offload to the GPU; negative = all. Default: llama.cpp's default. */
  readonly nGpuLayers?: number;
  /** Default true. */
  readonly useMmap?: boolean;
  readonly useMlock?: boolean;
  readonly vocabOnly?: boolean;
}

export interface NativeContextOptions {
  /** Default 4096. */
  readonly nCtx?: number;
  /** Default 2048. */
  readonly nBatch?: number;
  /** Default 512. */
  readonly nUbatch?: number;
  /** Default 1. */
  readonly nSeqMax?: number;
  /** Default: hardware concurrency. */
  readonly nThreads?: number;
  /** Default: nThreads. */
  readonly nThreadsBatch?: number;
  /** Default 'auto'. */
  readonly flashAttn?: boolean | 'auto';
  /** One KV cell pool for all sequences (default true): needed to copy part of a sequence. */
  readonly kvUnified?: boolean;
}

export interface NativeContextInfo {
  readonly nCtx: number;
  readonly nCtxSeq: number;
  readonly nBatch: number;
  readonly nUbatch: number;
  readonly nSeqMax: number;
  readonly nThreads: number;
  readonly nThreadsBatch: number;
}

export interface NativeContext {
  getInfo(): NativeContextInfo;
  /** Removes positions [p0, p1) of a sequence (seqId -1: all; p1 -1: to the end). */
  kvRemove(seqId: number, p0?: number, p1?: number): boolean;
  /**
   * Gives `dstSeqId` the cells of `srcSeqId` in [p0, p1). Without `kvUnified` the destination's
   * previous cells are dropped (sequences have separate buffers, copied whole, then cut).
   */
  kvCopy(srcSeqId: number, dstSeqId: number, p0?: number, p1?: number): void;
  /** Drops every sequence except `seqId`. */
  kvKeep(seqId: number): void;
  kvClear(): void;
  /** Largest position held for the sequence, -1 when empty. */
  kvPosMax(seqId: number): number;
  kvPosMin(seqId: number): number;
  /** Stops the running evalPrompt/generate on this context (checked before each token and inside decode). */
  abort(): void;
  /** Throws CONTEXT_BUSY while an operation runs. */
  dispose(): void;
  readonly disposed: boolean;
  readonly busy: boolean;
}

export interface NativeBitmap {
  readonly width: number;
  readonly height: number;
  /** Content hash unless an id was given; image embeddings are cached by it. */
  readonly id: string;
  dispose(): void;
  readonly disposed: boolean;
}

export interface NativeMtmdOptions {
  /** Default: hardware concurrency. */
  readonly nThreads?: number;
  /** Default true (ignored by the CPU variant). */
  readonly useGpu?: boolean;
  /** Run a warm-up encode at init. Default true. */
  readonly warmup?: boolean;
  readonly imageMinTokens?: number;
  readonly imageMaxTokens?: number;
  readonly flashAttn?: boolean;
  /** Encoded-image embeddings kept (LRU, by bitmap id). Default 4; 0 disables. */
  readonly cacheEntries?: number;
}

export interface NativeMtmdInfo {
  readonly supportsVision: boolean;
  readonly supportsAudio: boolean;
  /** Marker to put in the prompt where each image goes. */
  readonly marker: string;
  readonly defaultMarker: string;
  readonly usesMrope: boolean;
  readonly usesNonCausal: boolean;
  readonly nEmbdInp: number;
}

export interface NativeEvalPromptOptions {
  /** Add BOS etc. as the model wants. Default true. */
  readonly addSpecial?: boolean;
  /** Parse special-token text (e.g. `</s>`). Default true. */
  readonly parseSpecial?: boolean;
  /** Default: the context's nBatch. */
  readonly nBatch?: number;
  /** Compute logits for the last prompt token (needed before generate). Default true. */
  readonly logitsLast?: boolean;
}

export interface NativeChunkStat {
  readonly type: 'text' | 'image' | 'audio';
  readonly nTokens: number;
  readonly id?: string;
  readonly cached: boolean;
}

export interface NativeEvalPromptResult {
  /** Position after the prompt: pass it to generate(). */
  readonly nPast: number;
  readonly textTokens: number;
  readonly imageTokens: number;
  /** Image encoder (CLIP + projector) time. */
  readonly encodeMs: number;
  /** llama_decode time for text and image tokens. */
  readonly decodeMs: number;
  readonly totalMs: number;
  readonly cachedImages: number;
  /** False when the prompt ended in an image or logitsLast was false: generate() would fail. */
  readonly logitsReady: boolean;
  readonly chunks: readonly NativeChunkStat[];
}

export interface NativeMtmd {
  getInfo(): NativeMtmdInfo;
  createBitmap(width: number, height: number, rgb: Uint8Array, id?: string): NativeBitmap;
  /**
   * Tokenizes `text` (one marker per bitmap), encodes the images and decodes everything into
   * sequence `seqId` of `context` from position `nPast`. On failure the sequence is truncated back
   * to `nPast`.
   */
  evalPrompt(
    context: NativeContext,
    seqId: number,
    nPast: number,
    text: string,
    bitmaps: readonly NativeBitmap[],
    options?: NativeEvalPromptOptions,
  ): Promise<NativeEvalPromptResult>;
  /**
   * Encodes one bitmap (CLIP + projector) into the embeddings evalPrompt would feed the LLM,
   * without a llama context and bypassing the embedding cache (diagnostics: `llava-desk embed`).
   */
  encodeImage(bitmap: NativeBitmap): Promise<NativeEncodeImageResult>;
  clearCache(): void;
  dispose(): void;
  readonly disposed: boolean;
}

export interface NativeEncodeImageResult {
  /** Image tokens (rows). */
  readonly nTokens: number;
  /** Width of each row: the LLM's input embedding length. */
  readonly nEmbd: number;
  /** nTokens x nEmbd, row-major. */
  readonly embeddings: Float32Array;
  readonly encodeMs: number;
}

export interface NativeGenerateOptions {
  /** Default 256. */
  readonly maxTokens?: number;
  /** 0 = greedy. Default 0.8. */
  readonly temperature?: number;
  /** Default 40 (<= 0 disables). */
  readonly topK?: number;
  /** Default 0.95. */
  readonly topP?: number;
  /** Default 0.05. */
  readonly minP?: number;
  /** Default 1 (off). */
  readonly repeatPenalty?: number;
  /** Default 64. */
  readonly repeatLastN?: number;
  /** Default: random. */
  readonly seed?: number;
  /** Stop at an end-of-generation token (not included in `tokens`). Default true. */
  readonly stopAtEog?: boolean;
}

export type NativeStopReason = 'eog' | 'maxTokens' | 'aborted' | 'contextFull' | 'callbackError';

export interface NativeGenerateResult {
  readonly tokens: number[];
  /** Concatenated token pieces (special tokens rendered). */
  readonly text: string;
  /** Position after the last token decoded into the KV cache. */
  readonly nPast: number;
  readonly stopReason: NativeStopReason;
  readonly eogToken: number | null;
  readonly firstTokenMs: number;
  readonly totalMs: number;
  readonly tokensPerSecond: number;
}

/**
 * Called for each token: `text` is the UTF-8-complete text delta (it may be '' when a token ends
 * inside a multi-byte character, which then arrives with the next call). A final call with
 * token -1 flushes an incomplete tail. Throwing aborts generation and rejects the promise.
 */
export type NativeTokenCallback = (token: number, text: string) => void;

/** One sequence of a generateMany() call. */
export interface NativeGenerateManyRequest {
  readonly seqId: number;
  /** Position after the sequence's prompt. */
  readonly nPast: number;
  /** What readLogits() returned right after this sequence's prompt was evaluated. */
  readonly logits: Float32Array;
  readonly options?: NativeGenerateOptions;
}

/** A step's tokens: `index` is the request's place in the generateMany() call. */
export interface NativeBatchTokenEvent {
  readonly index: number;
  /** -1 for a final flush of an incomplete UTF-8 tail. */
  readonly token: number;
  readonly text: string;
}

/** Called once per decode step with every token that step produced. Throwing aborts all. */
export type NativeBatchTokenCallback = (events: readonly NativeBatchTokenEvent[]) => void;

declare const samplerBrand: unique symbol;
/** An opaque sampler chain (createSampler()): its random state and penalty history last across steps. */
export interface NativeSampler {
  readonly [samplerBrand]: true;
}

/** One sequence of a decodeStep() call. */
export interface NativeStepEntry {
  readonly seqId: number;
  /** Where the sampled token goes in the sequence. */
  readonly nPast: number;
  /** The logits to sample from: readLogits() after the prompt, or the previous step's. */
  readonly logits: Float32Array;
  readonly sampler: NativeSampler;
  /** Default true: an end-of-generation token is not decoded. */
  readonly stopAtEog?: boolean;
}

/**
 * One sequence's step. `stop` null: the token was decoded at `nPast` and `logits` are the next
 * step's. 'eog': the token ends the answer (not decoded); 'contextFull' / 'aborted': sampled but
 * not decoded.
 */
export interface NativeStepOutcome {
  readonly token: number;
  /** The token's bytes: a UTF-8 character may be split between two tokens. */
  readonly piece: Uint8Array;
  readonly stop: null | 'eog' | 'contextFull' | 'aborted';
  readonly logits: Float32Array | null;
}

export interface NativeBackendDevice {
  readonly name: string;
  readonly description: string;
  readonly type: 'cpu' | 'gpu' | 'igpu' | 'accel' | 'other';
}

export interface NativeBackendInfo {
  readonly variant: string;
  readonly devices: readonly NativeBackendDevice[];
  readonly systemInfo: string;
  readonly defaultMarker: string;
}

export type NativeLogLevel = 'none' | 'error' | 'warn' | 'info' | 'debug';

export interface NativeAddon {
  loadModel(path: string, options?: NativeLoadModelOptions): Promise<NativeModel>;
  createContext(model: NativeModel, options?: NativeContextOptions): Promise<NativeContext>;
  initMtmd(
    model: NativeModel,
    mmprojPath: string,
    options?: NativeMtmdOptions,
  ): Promise<NativeMtmd>;
  createBitmap(width: number, height: number, rgb: Uint8Array, id?: string): NativeBitmap;
  /** Samples from the logits the last evalPrompt/generate left; one generate per context at a time. */
  generate(
    context: NativeContext,
    seqId: number,
    nPast: number,
    options?: NativeGenerateOptions,
    onToken?: NativeTokenCallback,
  ): Promise<NativeGenerateResult>;
  /**
   * Generates for several sequences at once: each step decodes one token of every running
   * sequence in one llama_decode. Results are in request order; context.abort() stops all.
   */
  generateMany(
    context: NativeContext,
    requests: readonly NativeGenerateManyRequest[],
    onTokens?: NativeBatchTokenCallback,
  ): Promise<NativeGenerateResult[]>;
  /** Copy of the last token's logits from the last evaluation (throws NO_LOGITS when none). */
  readLogits(context: NativeContext): Float32Array;
  /** A sampler chain for one answer (maxTokens and stopAtEog are the caller's business). */
  createSampler(model: NativeModel, options?: NativeGenerateOptions): NativeSampler;
  /**
   * One token for each entry, sampled and then decoded together in one llama_decode. The caller
   * runs the loop, so prompts can be evaluated for new sequences between two steps.
   */
  decodeStep(
    context: NativeContext,
    entries: readonly NativeStepEntry[],
  ): Promise<NativeStepOutcome[]>;
  getBackendInfo(): NativeBackendInfo;
  /**
   * Loads the ggml backends in a variant's bins folder and initialises llama.cpp, as getLlama()
   * does (once per process); returns getBackendInfo().
   */
  loadBackends(dir: string): NativeBackendInfo;
  /** Verbosity of mtmd/clip logs on stderr. Default 'error'. */
  setLogLevel(level: NativeLogLevel): void;
  readonly variant: string;
  readonly abiVersion: number;
}

export const NATIVE_ABI_VERSION = 4;

// ---------------------------------------------------------------------------------------------
// Loader

export interface NativeBuildInfo {
  readonly variant: string;
  readonly gpu: string | false;
  readonly binsDir: string;
  readonly libs: readonly string[];
  readonly nodeLlamaCpp: string;
  /** `patches`: llava-desk's patch series applied to the source (native/patches), by file name. */
  readonly llamaCpp: {
    readonly tag: string;
    readonly commit: string;
    readonly patches?: readonly string[];
  };
}

export interface NativeBridge {
  readonly addon: NativeAddon;
  /** node-llama-cpp's instance; absent on a remembered start (see loadRememberedBridge). */
  readonly llama: Llama | undefined;
  /** How the variant was chosen: by getLlama() now, or remembered from an earlier start. */
  readonly startup: 'probed' | 'remembered';
  /** The GPU backend type, or false on the CPU. */
  readonly gpu: string | false;
  /** Threads worth using for math (node-llama-cpp's count of physical cores). */
  readonly cpuMathCores: number;
  /** The folder of the variant's prebuilt libraries the addon runs on, when known. */
  readonly binsDir: string | undefined;
  readonly variant: string;
  readonly addonPath: string;
  readonly buildInfo: NativeBuildInfo | undefined;
}

export interface LoadNativeBridgeOptions {
  /** Passed to getLlama(); ignored when `llama` is given. Default 'auto'. */
  readonly gpu?: LlamaOptions['gpu'];
  /** Extra getLlama() options. Default: { build: 'never' } (use the prebuilt binaries). */
  readonly llamaOptions?: Omit<LlamaOptions, 'gpu'>;
  /** An already created Llama instance to pair with. */
  readonly llama?: Llama;
  /** Folder holding `<variant>/llava_desk_mtmd.node`. Default: env LLAVA_DESK_NATIVE_DIR, else `native/build` of the project. */
  readonly nativeBuildDir?: string;
  readonly logLevel?: NativeLogLevel;
}

const PLATFORM_NAMES: Readonly<Partial<Record<NodeJS.Platform, string>>> = {
  linux: 'linux',
  darwin: 'mac',
  win32: 'win',
};

/** node-llama-cpp's binary variant folder name for a Llama instance, e.g. linux-x64-cuda. */
export function variantForLlama(llama: Pick<Llama, 'gpu'>): string {
  const platform = PLATFORM_NAMES[process.platform] ?? process.platform;
  const base = `${platform}-${process.arch}`;
  return llama.gpu === false ? base : `${base}-${llama.gpu}`;
}

/** Walks up from this module to the project root (the folder that has native/). */
export function defaultNativeBuildDir(): string {
  const fromEnv = process.env['LLAVA_DESK_NATIVE_DIR'];
  if (fromEnv) return resolve(fromEnv);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (
      existsSync(join(dir, 'native', 'CMakeLists.txt')) ||
      existsSync(join(dir, 'native', 'build'))
    ) {
      return join(dir, 'native', 'build');
    }
    const parent = dirname(dir);
    if (parent === dir) return resolve('native', 'build');
    dir = parent;
  }
}

function readBuildInfo(path: string): NativeBuildInfo | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as NativeBuildInfo;
  } catch {
    return undefined;
  }
}

/** On Linux: the shared libraries named `libllama*` mapped into this process. */
function loadedLlamaLibraries(): string[] {
  if (process.platform !== 'linux') return [];
  try {
    const maps = readFileSync('/proc/self/maps', 'utf8');
    const libs = new Set<string>();
    for (const line of maps.split('\n')) {
      const slash = line.indexOf('/');
      if (slash < 0) continue;
      const path = line.slice(slash);
      if (/\/libllama\.[^/]*so$/.test(path)) libs.add(path);
    }
    return [...libs];
  } catch {
    return [];
  }
}

let cached: Promise<NativeBridge> | undefined;
let cachedKey: string | undefined;

/**
 * Initialises node-llama-cpp (getLlama) and loads the matching native bridge build. Calls with the
 * same options share one bridge.
 */
export function loadNativeBridge(options: LoadNativeBridgeOptions = {}): Promise<NativeBridge> {
  const key = JSON.stringify({
    gpu: options.gpu ?? 'auto',
    dir: options.nativeBuildDir ?? '',
    llama: options.llama !== undefined,
  });
  if (cached && cachedKey === key && options.llama === undefined) return cached;
  const promise = doLoad(options);
  cached = promise;
  cachedKey = key;
  promise.catch(() => {
    if (cached === promise) cached = undefined;
  });
  return promise;
}

/** The addon built for `variant`, with its build info; NATIVE_BRIDGE_MISSING when not built. */
function addonFiles(
  variant: string,
  buildDir: string,
): { addonPath: string; buildInfoPath: string } {
  const addonPath = join(buildDir, variant, 'llava_desk_mtmd.node');
  if (!existsSync(addonPath)) {
    throw new NativeBridgeError(
      'NATIVE_BRIDGE_MISSING',
      `The llava-desk native bridge for node-llama-cpp variant "${variant}" is not built ` +
        `(missing ${addonPath}). Run "npm run build:native" (needs cmake and a C++ compiler).`,
    );
  }
  return { addonPath, buildInfoPath: join(buildDir, variant, 'build-info.json') };
}

/** Loads the addon file and checks its ABI. */
function requireAddon(addonPath: string, logLevel: NativeLogLevel | undefined): NativeAddon {
  let addon: NativeAddon;
  try {
    const require = createRequire(import.meta.url);
    addon = require(addonPath) as NativeAddon;
  } catch (error) {
    throw new NativeBridgeError(
      'NATIVE_BRIDGE_LOAD_FAILED',
      `Could not load ${addonPath}: ${error instanceof Error ? error.message : String(error)}. ` +
        'Rebuild it with "npm run build:native".',
      { cause: error },
    );
  }
  if (addon.abiVersion !== NATIVE_ABI_VERSION) {
    throw new NativeBridgeError(
      'NATIVE_BRIDGE_MISMATCH',
      `${addonPath} has ABI ${String(addon.abiVersion)}, this code expects ${NATIVE_ABI_VERSION}. ` +
        'Rebuild it with "npm run build:native".',
    );
  }
  if (logLevel) addon.setLogLevel(logLevel);
  return addon;
}

/** Where the variant's libllama lies: the one mapped into this process (Linux), else the build's. */
function binsDirOf(buildInfo: NativeBuildInfo | undefined): string | undefined {
  const loaded = loadedLlamaLibraries()[0];
  if (loaded) return dirname(loaded);
  return buildInfo && existsSync(buildInfo.binsDir) ? buildInfo.binsDir : undefined;
}

async function doLoad(options: LoadNativeBridgeOptions): Promise<NativeBridge> {
  const { getLlama } = await import('node-llama-cpp');
  const llama =
    options.llama ??
    (await getLlama({ build: 'never', ...options.llamaOptions, gpu: options.gpu ?? 'auto' }));
  const variant = variantForLlama(llama);
  const buildDir = options.nativeBuildDir ?? defaultNativeBuildDir();
  const { addonPath, buildInfoPath } = addonFiles(variant, buildDir);
  const buildInfo = readBuildInfo(buildInfoPath);
  if (buildInfo) {
    const loaded = loadedLlamaLibraries();
    const expected = buildInfo.libs.find((lib) => lib.startsWith('libllama'));
    if (loaded.length > 0 && expected && !loaded.some((p) => p.endsWith(`/${expected}`))) {
      throw new NativeBridgeError(
        'NATIVE_BRIDGE_MISMATCH',
        `node-llama-cpp loaded ${loaded.join(', ')} but the native bridge for "${variant}" was linked ` +
          `against ${expected}. Rebuild with "npm run build:native".`,
      );
    }
  }
  const addon = requireAddon(addonPath, options.logLevel);
  return {
    addon,
    llama,
    startup: 'probed',
    gpu: llama.gpu,
    cpuMathCores: llama.cpuMathCores,
    binsDir: binsDirOf(buildInfo),
    variant,
    addonPath,
    buildInfo,
  };
}

/** The variant a remembered start uses, as startup-memo.ts keeps it. */
export interface RememberedVariant {
  readonly variant: string;
  readonly gpu: string | false;
  readonly binsDir: string;
  readonly cpuMathCores: number;
}

/** The files whose change means the install changed: the addon, its build info, its libllama. */
export function installFilesFor(
  variant: string,
  binsDir: string,
  nativeBuildDir: string = defaultNativeBuildDir(),
): { addonPath: string; buildInfoPath: string; libraryPath: string } | undefined {
  const addonPath = join(nativeBuildDir, variant, 'llava_desk_mtmd.node');
  const buildInfoPath = join(nativeBuildDir, variant, 'build-info.json');
  const library = readBuildInfo(buildInfoPath)?.libs.find((lib) => lib.startsWith('libllama'));
  if (!library) return undefined;
  return { addonPath, buildInfoPath, libraryPath: join(binsDir, library) };
}

/**
 * Loads the addon for a variant getLlama() chose on an earlier start and has it load that
 * variant's backends, without node-llama-cpp. Throws (having loaded no backend) when the addon
 * is missing or does not load; throws NATIVE_BRIDGE_LOAD_FAILED when the folder gave no device
 * of the variant's kind. The caller then probes with loadNativeBridge().
 */
export function loadRememberedBridge(
  remembered: RememberedVariant,
  options: Pick<LoadNativeBridgeOptions, 'nativeBuildDir' | 'logLevel'> = {},
): Promise<NativeBridge> {
  const buildDir = options.nativeBuildDir ?? defaultNativeBuildDir();
  const key = JSON.stringify({ remembered, dir: buildDir });
  if (cached && cachedKey === key) return cached;
  const promise = (async (): Promise<NativeBridge> => {
    const { addonPath, buildInfoPath } = addonFiles(remembered.variant, buildDir);
    const addon = requireAddon(addonPath, options.logLevel);
    const { devices } = addon.loadBackends(remembered.binsDir);
    const wanted = remembered.gpu === false ? 'cpu' : 'gpu';
    if (!devices.some((device) => device.type === wanted)) {
      throw new NativeBridgeError(
        'NATIVE_BRIDGE_LOAD_FAILED',
        `${remembered.binsDir} gave no ${wanted.toUpperCase()} device for "${remembered.variant}".`,
      );
    }
    return {
      addon,
      llama: undefined,
      startup: 'remembered',
      gpu: remembered.gpu,
      cpuMathCores: remembered.cpuMathCores,
      binsDir: remembered.binsDir,
      variant: remembered.variant,
      addonPath,
      buildInfo: readBuildInfo(buildInfoPath),
    };
  })();
  cached = promise;
  cachedKey = key;
  promise.catch(() => {
    if (cached === promise) cached = undefined;
  });
  return promise;
}
