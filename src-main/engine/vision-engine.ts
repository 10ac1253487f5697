// The engine's public face in the engine process: loads a pair (engine-loader.ts) and hands
// answers to the one answer pipeline (answer-pipeline.ts), which runs them side by side.
import type {
  AskResult,
  EngineInfo,
  EngineLoadOptions,
  ImageEmbeddings,
  PreparedImage,
} from '../api/engine.js';
import { LlavaDeskError } from '../common/errors.js';
import { AnswerPipeline } from './answer-pipeline.js';
import { disposeEngineParts, loadEngineParts, type EngineParts } from './engine-loader.js';
import type {
  CompletionCallbacks,
  CompletionRequest,
  ManyCallbacks,
  ManyOutcome,
} from './engine-requests.js';
import { withBitmaps } from './request-images.js';
import { RequestRenderer } from './request-render.js';

export type {
  CompletionCallbacks,
  CompletionRequest,
  ManyCallbacks,
  ManyOutcome,
} from './engine-requests.js';

/**
 * llama.cpp with images, in this process: one model, one context shared by sessions through its
 * sequences, one mmproj with an embedding cache. Answers run side by side, one per sequence
 * (prompts evaluated between decode steps, all answers under way decoded together); a follow-up
 * evaluates only what its session's KV cache does not already hold.
 */
export class VisionEngine {
  readonly info: EngineInfo;
  readonly #parts: EngineParts;
  readonly #renderer: RequestRenderer;
  readonly #pipeline: AnswerPipeline;
  #disposed = false;

  private constructor(parts: EngineParts) {
    this.info = parts.info;
    this.#parts = parts;
    this.#renderer = new RequestRenderer(parts.template, parts.info.imageMarker);
    this.#pipeline = new AnswerPipeline(parts, this.#renderer);
  }

  static async load(options: EngineLoadOptions): Promise<VisionEngine> {
    return new VisionEngine(await loadEngineParts(options));
  }

  /** The system prompt used when a conversation sets none. */
  get defaultSystem(): string | undefined {
    return this.#renderer.defaultSystem;
  }

  complete(request: CompletionRequest, callbacks: CompletionCallbacks = {}): Promise<AskResult> {
    return this.#run(() => this.#pipeline.answer(request, callbacks));
  }

  /**
   * Answers a batch's items (distinct sessions, at most `info.parallel`) at once: each prompt
   * starts from the longest prefix any sequence holds (the text before the first image is its own
   * checkpoint, so a shared system prompt and question head are evaluated once and copied), and
   * each answer is generated beside the others, one llama_decode per step. An interactive
   * complete() may take an item's sequence (that item's outcome is PREEMPTED). The sequences keep
   * their prompts' head, not the answers.
   */
  completeMany(
    requests: readonly CompletionRequest[],
    callbacks: ManyCallbacks = {},
  ): Promise<ManyOutcome[]> {
    const sessions = new Set(requests.map((r) => r.sessionId));
    if (
      !this.#disposed &&
      (requests.length > this.info.parallel || sessions.size !== requests.length)
    ) {
      return Promise.reject(
        new LlavaDeskError(
          'INVALID_ARGUMENT',
          `completeMany takes at most ${this.info.parallel} requests with distinct sessions.`,
        ),
      );
    }
    return this.#run(() => this.#pipeline.answerMany(requests, callbacks));
  }

  /**
   * The images' embeddings (CLIP + projector) as complete() would feed them to the LLM, one
   * image after another; no context or cache is touched (a diagnostic).
   */
  embedImages(images: readonly PreparedImage[]): Promise<ImageEmbeddings> {
    return this.#run(() =>
      this.#pipeline.exclusive(async () => {
        const mtmd = this.#parts.mtmd;
        const parts = [];
        for (const image of images) {
          parts.push(await withBitmaps(mtmd, [image], ([bitmap]) => mtmd.encodeImage(bitmap!)));
        }
        const width = mtmd.getInfo().nEmbdInp;
        const tokens = parts.reduce((n, part) => n + part.nTokens, 0);
        const data = new Float32Array(tokens * width);
        let offset = 0;
        for (const part of parts) {
          data.set(part.embeddings, offset);
          offset += part.embeddings.length;
        }
        return { tokens, width, data };
      }),
    );
  }

  /** Frees the session's sequence; its KV cache is cleared unless `keepCache`. */
  closeSession(sessionId: string, options: { keepCache?: boolean } = {}): Promise<void> {
    return this.#pipeline.closeSession(sessionId, options.keepCache === true);
  }

  /** Refuses new calls, lets those already made finish, then frees the model. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#pipeline.close();
    disposeEngineParts(this.#parts);
  }

  /** Starts a call; refused once the engine is disposed. */
  #run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#disposed) {
      return Promise.reject(new LlavaDeskError('ENGINE_NOT_LOADED', 'The engine was unloaded.'));
    }
    return task();
  }
}
