import type { AskResult, PreparedImage, SamplingOptions, TokenEvent } from '../api/engine.js';
import type { PromptConversation } from '../engine/prompt/conversation.js';
import type { EncoderSpec } from '../imaging/index.js';

/** The model the local API answers with: the one the app's chats use. */
export interface ApiModel {
  /** The installed model's id (what clients put in `model`). */
  id: string;
  /** Other names accepted in `model` (the catalog id, the display name). */
  aliases: readonly string[];
  displayName: string;
  sizeBytes: number;
  /** When it was installed (ms since the epoch). */
  installedAt: number;
  family: string;
  /** Whether the LLM's own GGUF template is used (else LLaVA-1.5's vicuna_v1). */
  template: 'gguf' | 'vicuna_v1';
}

export interface ApiCompleteRequest {
  conversation: PromptConversation;
  images: readonly PreparedImage[];
  sampling: SamplingOptions;
}

/**
 * What the local HTTP API needs from the app: the active model, the defaults the user chose, the
 * encoder that images are prepared for, and completions on the app's own engine (the same process,
 * model and embedding cache as the chats). Requests are stateless: the conversation is whole.
 */
export interface ApiBackend {
  /** The app's version (Ollama's /api/version). */
  readonly version: string;
  activeModel(): Promise<ApiModel | undefined>;
  /** Whether the engine holds the active model in memory now (Ollama's /api/ps). */
  loaded(): boolean;
  /** The user's settings for answers when a request leaves them out. */
  defaults(): Promise<{ temperature: number; maxTokens: number }>;
  /** The active model's image encoder (what images are planned and rendered for). */
  encoder(): Promise<EncoderSpec>;
  complete(
    request: ApiCompleteRequest,
    callbacks: { signal: AbortSignal; onToken: (event: TokenEvent) => void },
  ): Promise<AskResult>;
}
