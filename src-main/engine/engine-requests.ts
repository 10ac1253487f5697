// What VisionEngine is asked: a completion request, the callbacks of one or of a batch, a batch's
// per-request outcome, and the request's sampling as the native generator takes it.
import type { AskResult, RequestImage, SamplingOptions, TokenEvent } from '../api/engine.js';
import type { Result } from '../api/result.js';
import type { NativeGenerateOptions } from './native/binding.js';
import type { PromptConversation } from './prompt/conversation.js';

/** What the engine is asked to continue: a whole conversation (KV reuse is its business). */
export interface CompletionRequest {
  sessionId: string;
  /** Rendered with the model's template. Exactly one of `conversation` and `raw`. */
  conversation?: PromptConversation;
  /** Verbatim prompt text; each image marker (see `EngineInfo.imageMarker`) takes the next image. */
  raw?: string;
  /**
   * Every image of the conversation, in the order of its markers; pixels only needed for those
   * the session's cache does not hold (see RequestImage).
   */
  images: readonly RequestImage[];
  sampling?: SamplingOptions;
}

export interface CompletionCallbacks {
  onToken?: (event: TokenEvent) => void;
  signal?: AbortSignal;
}

/** Callbacks of completeMany(): `index` is the request's place in the call. */
export interface ManyCallbacks {
  onToken?: (index: number, event: TokenEvent) => void;
  signal?: AbortSignal;
}

/**
 * One request's outcome in completeMany(), the project's Result envelope (api/result.ts): a
 * failure of one request does not fail the others.
 */
export type ManyOutcome = Result<AskResult>;

const DEFAULT_MAX_TOKENS = 512;

/** The request's sampling as the native generator takes it (greedy, 512 tokens by default). */
export function nativeSampling(sampling: SamplingOptions = {}): NativeGenerateOptions {
  return {
    maxTokens: sampling.maxTokens ?? DEFAULT_MAX_TOKENS,
    temperature: sampling.temperature ?? 0,
    ...(sampling.topK !== undefined ? { topK: sampling.topK } : {}),
    ...(sampling.topP !== undefined ? { topP: sampling.topP } : {}),
    ...(sampling.minP !== undefined ? { minP: sampling.minP } : {}),
    ...(sampling.repeatPenalty !== undefined ? { repeatPenalty: sampling.repeatPenalty } : {}),
    ...(sampling.seed !== undefined ? { seed: sampling.seed } : {}),
  };
}
