import { randomInt } from 'node:crypto';
import type { PreparedImage as EngineImage, SamplingOptions } from '../api/engine.js';
import type { PromptTurn } from '../engine/prompt/conversation.js';
import type { ApiBackend, ApiModel } from './api-backend.js';
import { ApiError, badRequest } from './api-errors.js';
import type { ApiImageInput, ApiImages, ApiPreparedImage } from './api-images.js';
import { StopMatcher } from './stop-matcher.js';

/** Limits of the local API (per request). */
export interface ApiLimits {
  /** Largest request body, in bytes (images travel inline, base64). */
  maxBodyBytes: number;
  /** Images in one request, over all its messages. */
  maxImages: number;
  /** Most tokens one answer may generate; larger asks are cut to this. */
  maxTokens: number;
  /** Requests answered or waiting at once; more are refused with 429. */
  maxPending: number;
}

export const DEFAULT_API_LIMITS: Readonly<ApiLimits> = Object.freeze({
  maxBodyBytes: 64 * 1024 * 1024,
  maxImages: 16,
  maxTokens: 4096,
  maxPending: 64,
});

/** A message of either dialect, its images already decoded to bytes. */
export interface ApiChatMessage {
  role: 'system' | 'user' | 'assistant';
  text: string;
  images: ApiImageInput[];
}

/** A chat completion as both dialects ask for it. */
export interface ApiCompletion {
  messages: ApiChatMessage[];
  temperature?: number | undefined;
  topP?: number | undefined;
  topK?: number | undefined;
  repeatPenalty?: number | undefined;
  seed?: number | undefined;
  maxTokens?: number | undefined;
  stop: readonly string[];
}

export interface CompletionUsage {
  /** Every token of the prompt, image tokens included (also those reused from the KV cache). */
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens reused from the KV cache (not evaluated again). */
  cachedTokens: number;
  /** Image tokens of the prompt as the images were planned. */
  imageTokens: number;
  images: number;
  /** Each image as the app planned it (upright size, detail, encoder images), in order. */
  imagePlans: ApiPreparedImage['plan'][];
  /** Images whose embeddings came from the engine's cache (not encoded again). */
  cachedImages: number;
  imageEncodeMs: number;
  promptMs: number;
  timeToFirstTokenMs: number;
  totalMs: number;
}

export interface CompletionOutcome {
  text: string;
  finishReason: 'stop' | 'length';
  usage: CompletionUsage;
}

/** The model a request names, if it is the one the app uses (its id or an alias); else 404. */
export async function resolveModel(backend: ApiBackend, name: string): Promise<ApiModel> {
  const model = await backend.activeModel();
  if (!model) {
    throw new ApiError(
      404,
      'not_found_error',
      'model_not_found',
      'No model is installed. Open Models in llava-desk to download or import one.',
      'model',
    );
  }
  const wanted = name.trim().replace(/:latest$/i, '');
  const names = [model.id, ...model.aliases].map((n) => n.toLowerCase());
  if (!names.includes(wanted.toLowerCase())) {
    throw new ApiError(
      404,
      'not_found_error',
      'model_not_found',
      `The model '${name}' does not exist here. This server answers with '${model.id}' ` +
        '(the model llava-desk uses; GET /v1/models lists it).',
      'model',
    );
  }
  return model;
}

/**
 * Answers a completion on the app's engine: images prepared by the app's pipeline, the whole
 * conversation built from the request (stateless), stop strings cut on the host side. `onText`
 * gets the answer as it grows (never past a stop string). An aborted `signal` (the client went
 * away) stops the generation.
 */
export async function runCompletion(
  deps: { backend: ApiBackend; images: ApiImages; limits: ApiLimits },
  request: ApiCompletion,
  signal: AbortSignal,
  onText: (piece: string) => void = () => undefined,
): Promise<CompletionOutcome> {
  const { backend, images, limits } = deps;
  const started = performance.now();
  const imageCount = request.messages.reduce((n, m) => n + m.images.length, 0);
  if (imageCount > limits.maxImages) {
    throw badRequest(
      'too_many_images',
      `${imageCount} images in one request; at most ${limits.maxImages} are accepted.`,
    );
  }
  const spec = await backend.encoder();
  const prepared = await Promise.all(
    request.messages.map((m) => Promise.all(m.images.map((i) => images.prepare(i, spec)))),
  );
  const { system, turns } = conversationOf(request.messages, prepared);
  const bitmaps: EngineImage[] = prepared.flat().flatMap((p) => p.bitmaps);
  const imageTokens = prepared.flat().reduce((n, p) => n + p.tokens, 0);

  const defaults = await backend.defaults();
  const sampling: SamplingOptions = {
    temperature: request.temperature ?? defaults.temperature,
    maxTokens: Math.min(request.maxTokens ?? defaults.maxTokens, limits.maxTokens),
    seed: request.seed ?? randomInt(0, 2 ** 31 - 1),
    ...(request.topP !== undefined ? { topP: request.topP } : {}),
    ...(request.topK !== undefined ? { topK: request.topK } : {}),
    ...(request.repeatPenalty !== undefined ? { repeatPenalty: request.repeatPenalty } : {}),
  };

  const stopper = new StopMatcher(request.stop);
  const generation = new AbortController();
  const onAbort = (): void => generation.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  let text = '';
  const release = (piece: string): void => {
    // The first piece usually carries the space after the template's "ASSISTANT:".
    const out = text === '' ? piece.trimStart() : piece;
    if (out === '') return;
    text += out;
    onText(out);
  };
  try {
    if (signal.aborted) generation.abort();
    const result = await backend.complete(
      {
        conversation: { ...(system !== undefined ? { system } : {}), turns },
        images: bitmaps,
        sampling,
      },
      {
        signal: generation.signal,
        onToken: (event) => {
          release(stopper.push(event.text));
          if (stopper.stopped) generation.abort();
        },
      },
    );
    if (result.stopReason === 'aborted' && !stopper.stopped) {
      throw new ApiError(499, 'invalid_request_error', 'aborted', 'The client went away.');
    }
    release(stopper.flush());
    const { stats } = result;
    return {
      text,
      finishReason: stopper.stopped || result.stopReason === 'eog' ? 'stop' : 'length',
      usage: {
        promptTokens: stats.promptTokens + stats.reusedTokens,
        completionTokens: stats.generatedTokens,
        cachedTokens: stats.reusedTokens,
        imageTokens,
        images: imageCount,
        imagePlans: prepared.flat().map((p) => p.plan),
        cachedImages: stats.cachedImages,
        imageEncodeMs: stats.imageEncodeMs,
        promptMs: stats.promptMs,
        timeToFirstTokenMs: stats.timeToFirstTokenMs,
        totalMs: performance.now() - started,
      },
    };
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * The prompt conversation of a request: system messages joined into the system prompt; each user
 * message a turn (its images first, in order); consecutive user messages joined into one turn; an
 * assistant message the answer of the turn before it. The last message must be the user's.
 */
function conversationOf(
  messages: readonly ApiChatMessage[],
  prepared: ReadonlyArray<ReadonlyArray<{ bitmaps: readonly EngineImage[] }>>,
): { system?: string; turns: PromptTurn[] } {
  const systems: string[] = [];
  const turns: PromptTurn[] = [];
  let last: 'user' | 'assistant' | undefined;
  messages.forEach((message, i) => {
    const bitmapCount = (prepared[i] ?? []).reduce((n, p) => n + p.bitmaps.length, 0);
    if (message.role === 'system') {
      if (message.images.length > 0) {
        throw badRequest('invalid_request', 'System messages cannot carry images.', 'messages');
      }
      systems.push(message.text);
      return;
    }
    if (message.role === 'user') {
      const open = turns.at(-1);
      if (last === 'user' && open) {
        // Images stay before the text of their turn; a joined turn keeps all of them.
        turns[turns.length - 1] = {
          user: [open.user, message.text].filter((t) => t !== '').join('\n'),
          imageCount: open.imageCount + bitmapCount,
        };
      } else {
        turns.push({ user: message.text, imageCount: bitmapCount });
      }
      last = 'user';
      return;
    }
    if (message.images.length > 0) {
      throw badRequest('invalid_request', 'Assistant messages cannot carry images.', 'messages');
    }
    const open = turns.at(-1);
    if (last === 'user' && open) {
      turns[turns.length - 1] = { ...open, assistant: message.text };
    } else if (last === 'assistant' && open) {
      turns[turns.length - 1] = { ...open, assistant: `${open.assistant ?? ''}\n${message.text}` };
    } else {
      turns.push({ user: '', imageCount: 0, assistant: message.text });
    }
    last = 'assistant';
  });
  if (last !== 'user') {
    throw badRequest(
      'invalid_request',
      'The last message must be the user’s (there is nothing to answer).',
      'messages',
    );
  }
  const system = systems.join('\n\n');
  return { ...(system !== '' ? { system } : {}), turns };
}
