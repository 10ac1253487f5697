// The engine's public face in the engine process: loads a pair (engine-loader.ts), queues calls
// one at a time and hands answers to the one answer pipeline (answer-pipeline.ts).
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
import { SerialQueue } from './serial-queue.js';

export type {
  CompletionCallbacks,
  CompletionRequest,
  ManyCallbacks,
  ManyOutcome,
} from './engine-requests.js';

/**
 * llama.cpp with images, in this process: one model, one context shared by sessions through its
 * sequences, one mmproj with an embedding cache. Calls run one at a time (the context allows no
 * more); a follow-up evaluates only what its session's KV cache does not already hold.
 */
export class VisionEngine {
  readonly info: EngineInfo;
  readonly #parts: EngineParts;
  readonly #renderer: RequestRenderer;
  readonly #pipeline: AnswerPipeline;
  readonly #queue = new SerialQueue();
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
    return this.#run(() => this.#pipeline.answer(request, callbacks), callbacks.signal);
  }

  /**
   * Answers several independent requests (distinct sessions, at most `info.parallel`) at once:
   * their prompts are evaluated one after another, each starting from the longest prefix any
   * sequence holds (the text before the first image is its own checkpoint, so a shared system
   * prompt and question head are evaluated once and copied), then all are generated together,
   * one llama_decode per step. The sequences keep their prompts, not the answers.
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
    return this.#run(() => this.#pipeline.answerMany(requests, callbacks), callbacks.signal);
  }

  /**
   * The images' embeddings (CLIP + projector) as complete() would feed them to the LLM, one
   * image after another; no context or cache is touched (a diagnostic).
   */
  embedImages(images: readonly PreparedImage[]): Promise<ImageEmbeddings> {
    return this.#run(async () => {
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
    });
  }

  /** Frees the session's sequence (its KV cache). */
  closeSession(sessionId: string): Promise<void> {
    return this.#queue.run(async () => this.#pipeline.closeSession(sessionId));
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#queue.run(async () => disposeEngineParts(this.#parts));
  }

  /** Queues a call; refused once the engine is disposed. */
  #run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.#disposed) {
      return Promise.reject(new LlavaDeskError('ENGINE_NOT_LOADED', 'The engine was unloaded.'));
    }
    return this.#queue.run(task, signal);
  }
}
