/** Types of the vision engine shared by the core, the CLI and the renderer. */

export interface SamplingOptions {
  /** 0 = greedy (the paper's evaluation setting, reproducible). */
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repeatPenalty?: number;
  seed?: number;
  maxTokens?: number;
}

export interface EngineLoadOptions {
  modelPath: string;
  mmprojPath: string;
  /** 'auto' lets the machine's memory decide; a number forces that many layers on the GPU. */
  gpuLayers?: 'auto' | number;
  contextSize?: 'auto' | number;
  threads?: number;
  /** Sequences sharing one context (batch work runs several at once). */
  parallel?: number;
  /** 'auto': the GGUF's own chat template when it has one, else LLaVA-1.5 vicuna_v1. */
  template?: 'auto' | 'vicuna_v1' | 'gguf';
  /**
   * Flash attention in the image encoder; 'auto' (the default) lets llama.cpp decide. ggml's CPU
   * flash attention keeps K and V in f16, which `llava-desk embed --flash-attn off` shows.
   */
  encoderFlashAttn?: 'auto' | 'on' | 'off';
  /**
   * A file in the data folder where the engine remembers what node-llama-cpp found on this
   * machine and install, so the next start can skip probing (src-main/engine/native/startup-memo.ts).
   */
  startupMemoPath?: string;
}

export interface EngineInfo {
  variant: string;
  /** 'remembered': started from the data folder's memo without node-llama-cpp; 'probed': by getLlama(). */
  startup: 'probed' | 'remembered';
  gpu: string | false;
  gpuLayers: number;
  contextSize: number;
  parallel: number;
  threads: number;
  template: string;
  imageMarker: string;
  model: { path: string; description: string; parameters: number; embeddingLength: number };
}

/** An image ready for the encoder: 8-bit RGB, already oriented and planned by the imaging step. */
export interface PreparedImage {
  /** Hash of the prepared pixels: the key of the engine's embedding cache. */
  id: string;
  width: number;
  height: number;
  rgb: Uint8Array;
}

/**
 * An image of a completion request. Its pixels may be left out when the session's cache in the
 * engine process already holds the image (a follow-up about the same picture): the id (the pixel
 * hash) and size still place and key its marker. When the engine needs pixels it was not given it
 * refuses with ENGINE_IMAGES_NEEDED and the host sends them (src-main/engine/engine-client.ts).
 */
export type RequestImage = Omit<PreparedImage, 'rgb'> & { rgb?: Uint8Array | undefined };

/** An image's embeddings exactly as the engine feeds them to the LLM (`llava-desk embed`). */
export interface ImageEmbeddings {
  /** Image tokens (rows), over all the images given, in order. */
  tokens: number;
  /** Floats per token: the LLM's input embedding length. */
  width: number;
  /** tokens x width, row-major. */
  data: Float32Array;
}

export type StopReason = 'eog' | 'maxTokens' | 'aborted' | 'contextFull';

export interface AskStats {
  /** Time spent in the CLIP encoder for images not already cached. */
  imageEncodeMs: number;
  /** Image tokens evaluated in this call (0 when every image was already in the KV cache). */
  imageTokens: number;
  /** Images whose embeddings came from the cache instead of the encoder. */
  cachedImages: number;
  /** Tokens evaluated in this call (text and image), excluding those reused from the KV cache. */
  promptTokens: number;
  promptMs: number;
  /** Tokens kept in the KV cache from earlier turns. */
  reusedTokens: number;
  generatedTokens: number;
  tokensPerSecond: number;
  timeToFirstTokenMs: number;
  totalMs: number;
}

export interface AskResult {
  text: string;
  tokens: number[];
  stopReason: StopReason;
  stats: AskStats;
}

export interface TokenEvent {
  token: number;
  text: string;
}
