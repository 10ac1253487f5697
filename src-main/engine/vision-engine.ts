import type {
  AskResult,
  EngineInfo,
  EngineLoadOptions,
  ImageEmbeddings,
  PreparedImage,
  RequestImage,
  SamplingOptions,
  TokenEvent,
} from '../api/engine.js';
import type { Result } from '../api/result.js';
import { LlavaDeskError, serializeError } from '../common/errors.js';
import {
  appendToKvState,
  countImageMarkers,
  keyImageMarkers,
  markerEnd,
  planContinuation,
  stripImageKeys,
  truncateKvState,
  type ContinuationPlan,
  type KvCheckpoint,
  type KvState,
} from './kv-plan.js';
import {
  loadNativeBridge,
  type NativeBitmap,
  type NativeBridge,
  type NativeContext,
  type NativeEvalPromptResult,
  type NativeGenerateOptions,
  type NativeGenerateResult,
  type NativeModel,
  type NativeMtmd,
} from './native/binding.js';
import type { PromptConversation, PromptTemplate } from './prompt/conversation.js';
import { jinjaTemplate } from './prompt/jinja-template.js';
import { LLAVA_V1_SYSTEM, vicunaV1 } from './prompt/vicuna-v1.js';
import { planModelFit } from '../models/fit/plan-model-fit.js';
import { validatePair } from '../models/pairing.js';
import { SequencePool, type SequenceSlot } from './sequence-pool.js';
import { SerialQueue } from './serial-queue.js';

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

/** One request's outcome in completeMany(): a failure of one request does not fail the others. */
/** One request's outcome in a batch: the project's Result envelope (api/result.ts). */
export type ManyOutcome = Result<AskResult>;

const DEFAULT_MAX_TOKENS = 512;

/**
 * llama.cpp with images, in this process: one model, one context shared by sessions through its
 * sequences, one mmproj with an embedding cache. Calls run one at a time (the context allows no
 * more); a follow-up evaluates only what its session's KV cache does not already hold.
 */
export class VisionEngine {
  readonly info: EngineInfo;
  readonly #bridge: NativeBridge;
  readonly #model: NativeModel;
  readonly #context: NativeContext;
  readonly #mtmd: NativeMtmd;
  readonly #template: PromptTemplate;
  readonly #pool: SequencePool;
  readonly #queue = new SerialQueue();
  #disposed = false;

  private constructor(parts: {
    info: EngineInfo;
    bridge: NativeBridge;
    model: NativeModel;
    context: NativeContext;
    mtmd: NativeMtmd;
    template: PromptTemplate;
  }) {
    this.info = parts.info;
    this.#bridge = parts.bridge;
    this.#model = parts.model;
    this.#context = parts.context;
    this.#mtmd = parts.mtmd;
    this.#template = parts.template;
    this.#pool = new SequencePool(parts.info.parallel);
  }

  static async load(options: EngineLoadOptions): Promise<VisionEngine> {
    // Typed errors for missing, truncated, mismatched or outdated files before llama.cpp sees them
    // (checked while node-llama-cpp loads its backends). The addon checks the files' integrity
    // again when it opens them (native/src/common.h ValidateGguf): not a repeat by choice but its
    // own precondition at the moment of loading; the codes a user acts on come from here.
    const [, bridge] = await Promise.all([
      validatePair(options.modelPath, options.mmprojPath),
      loadNativeBridge({ gpu: options.gpuLayers === 0 ? false : 'auto' }),
    ]);
    const threads = options.threads ?? Math.max(1, bridge.llama.cpuMathCores);
    // GgufInsights sizes what 'auto' leaves open for this machine's RAM and VRAM (nothing is
    // left open on a CPU-only machine asked for a given context size).
    const onGpu = bridge.llama.gpu !== false;
    const fit =
      (onGpu && typeof options.gpuLayers !== 'number') || typeof options.contextSize !== 'number'
        ? await planModelFit({
            modelPath: options.modelPath,
            mmprojPath: options.mmprojPath,
            gpuLayers: options.gpuLayers ?? 'auto',
            contextSize: options.contextSize ?? 'auto',
            llama: bridge.llama,
          })
        : undefined;
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
      return VisionEngine.#assemble(options, bridge, model, created.value, initialised.value, {
        gpuLayers,
        parallel,
        threads,
      });
    } catch (error) {
      mtmd?.dispose();
      context?.dispose();
      model.dispose();
      throw error;
    }
  }

  /** The loaded parts as an engine; throws (the caller frees them) for a pair it cannot use. */
  static #assemble(
    options: EngineLoadOptions,
    bridge: NativeBridge,
    model: NativeModel,
    context: NativeContext,
    mtmd: NativeMtmd,
    sizes: { gpuLayers: number; parallel: number; threads: number },
  ): VisionEngine {
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
    return new VisionEngine({
      bridge,
      model,
      context,
      mtmd,
      template,
      info: {
        variant: bridge.variant,
        gpu: bridge.llama.gpu,
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
    });
  }

  /** The system prompt used when a conversation sets none. */
  get defaultSystem(): string | undefined {
    return this.#template === vicunaV1 ? LLAVA_V1_SYSTEM : undefined;
  }

  complete(request: CompletionRequest, callbacks: CompletionCallbacks = {}): Promise<AskResult> {
    if (this.#disposed) {
      return Promise.reject(new LlavaDeskError('ENGINE_NOT_LOADED', 'The engine was unloaded.'));
    }
    return this.#queue.run(() => this.#complete(request, callbacks), callbacks.signal);
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
    if (this.#disposed) {
      return Promise.reject(new LlavaDeskError('ENGINE_NOT_LOADED', 'The engine was unloaded.'));
    }
    const sessions = new Set(requests.map((r) => r.sessionId));
    if (requests.length > this.info.parallel || sessions.size !== requests.length) {
      return Promise.reject(
        new LlavaDeskError(
          'INVALID_ARGUMENT',
          `completeMany takes at most ${this.info.parallel} requests with distinct sessions.`,
        ),
      );
    }
    return this.#queue.run(() => this.#completeMany(requests, callbacks), callbacks.signal);
  }

  /**
   * The images' embeddings (CLIP + projector) as complete() would feed them to the LLM, one
   * image after another; no context or cache is touched (a diagnostic).
   */
  embedImages(images: readonly PreparedImage[]): Promise<ImageEmbeddings> {
    if (this.#disposed) {
      return Promise.reject(new LlavaDeskError('ENGINE_NOT_LOADED', 'The engine was unloaded.'));
    }
    return this.#queue.run(async () => {
      const parts = [];
      for (const image of images) {
        const bitmap = this.#bitmap(image);
        try {
          parts.push(await this.#mtmd.encodeImage(bitmap));
        } finally {
          bitmap.dispose();
        }
      }
      const tokens = parts.reduce((n, part) => n + part.nTokens, 0);
      const data = new Float32Array(tokens * this.#embdWidth);
      let offset = 0;
      for (const part of parts) {
        data.set(part.embeddings, offset);
        offset += part.embeddings.length;
      }
      return { tokens, width: this.#embdWidth, data };
    });
  }

  get #embdWidth(): number {
    return this.#mtmd.getInfo().nEmbdInp;
  }

  /** Frees the session's sequence (its KV cache). */
  closeSession(sessionId: string): Promise<void> {
    return this.#queue.run(async () => {
      const slot = this.#pool.release(sessionId);
      if (slot) {
        this.#context.kvRemove(slot.seqId, 0, -1);
        this.#pool.reset(slot);
      }
    });
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#queue.run(async () => {
      this.#mtmd.dispose();
      this.#context.dispose();
      this.#model.dispose();
    });
  }

  async #complete(request: CompletionRequest, callbacks: CompletionCallbacks): Promise<AskResult> {
    const started = performance.now();
    const marker = this.info.imageMarker;
    const { rendered, slot, plan } = this.#prepareSequence(request);

    const skipImages = countImageMarkers(rendered.slice(0, plan.keep.textLength), marker);
    // Before any evaluation: a request without the pixels this sequence needs is refused (the
    // sequence was only cut to the prefix it shares, which the resent request shares too).
    requirePixels(request.images.slice(skipImages));
    const bitmaps = request.images.slice(skipImages).map((image) => this.#bitmap(image));
    const signal = callbacks.signal;
    // The context checks this flag between tokens and inside each decode step.
    const onAbort = (): void => this.#context.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let evaluated;
    let generated;
    let promptDone: number;
    try {
      if (signal?.aborted) throw new LlavaDeskError('ABORTED', 'Stopped before it started.');
      evaluated = await this.#mtmd.evalPrompt(
        this.#context,
        slot.seqId,
        plan.keep.nPast,
        stripImageKeys(plan.remainder),
        bitmaps,
        { addSpecial: plan.keep.nPast === 0, parseSpecial: true },
      );
      slot.kv = appendEvaluation(slot.kv, plan, evaluated, marker);
      promptDone = performance.now();
      generated = signal?.aborted
        ? stoppedBeforeFirstToken(evaluated.nPast)
        : await this.#bridge.addon.generate(
            this.#context,
            slot.seqId,
            evaluated.nPast,
            nativeSampling(request.sampling ?? {}),
            streamAnswer(callbacks.onToken),
          );
    } finally {
      signal?.removeEventListener('abort', onAbort);
      for (const bitmap of bitmaps) bitmap.dispose();
    }
    const answer = answerText(generated.text);
    slot.kv = appendToKvState(
      slot.kv,
      this.#cachedAnswerText(request, rendered, answer, generated, evaluated.nPast),
      generated.nPast,
    );
    const finished = performance.now();

    const stopReason = generated.stopReason === 'callbackError' ? 'aborted' : generated.stopReason;
    return {
      text: answer,
      tokens: generated.tokens,
      stopReason,
      stats: {
        imageEncodeMs: evaluated.encodeMs,
        imageTokens: evaluated.imageTokens,
        cachedImages: evaluated.cachedImages,
        promptTokens: evaluated.textTokens + evaluated.imageTokens,
        promptMs: promptDone - started,
        reusedTokens: plan.keep.nPast,
        generatedTokens: generated.tokens.length,
        tokensPerSecond: generated.tokensPerSecond,
        timeToFirstTokenMs:
          generated.tokens.length > 0 ? promptDone - started + generated.firstTokenMs : 0,
        totalMs: finished - started,
      },
    };
  }

  async #completeMany(
    requests: readonly CompletionRequest[],
    callbacks: ManyCallbacks,
  ): Promise<ManyOutcome[]> {
    const signal = callbacks.signal;
    const onAbort = (): void => this.#context.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const outcomes: ManyOutcome[] = requests.map(() => ({
      ok: false,
      error: { code: 'ABORTED', message: 'Stopped before it started.' },
    }));
    const ready: EvaluatedRequest[] = [];
    try {
      for (const [index, request] of requests.entries()) {
        if (signal?.aborted) break;
        try {
          ready.push(await this.#evaluateForMany(index, request));
        } catch (error) {
          outcomes[index] = { ok: false, error: serializeError(error) };
          if (signal?.aborted) break;
        }
      }
      if (ready.length === 0 || signal?.aborted) return outcomes;
      const generated = await this.#bridge.addon.generateMany(
        this.#context,
        ready.map((r) => ({
          seqId: r.seqId,
          nPast: r.nPast,
          logits: r.logits,
          options: nativeSampling(requests[r.index]?.sampling ?? {}),
        })),
        (() => {
          const onToken = callbacks.onToken;
          if (!onToken) return undefined;
          const pieces = ready.map(() => answerPieces());
          return (events: ReadonlyArray<{ index: number; token: number; text: string }>) => {
            for (const e of events) {
              const r = ready[e.index];
              const piece = pieces[e.index];
              if (r && piece) onToken(r.index, { token: e.token, text: piece(e.text) });
            }
          };
        })(),
      );
      const finished = performance.now();
      for (const [i, r] of ready.entries()) {
        const g = generated[i];
        if (!g) continue;
        outcomes[r.index] = { ok: true, value: manyResult(r, g, finished) };
      }
      return outcomes;
    } catch (error) {
      for (const r of ready) outcomes[r.index] = { ok: false, error: serializeError(error) };
      return outcomes;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // Batch sequences keep only the text before the image (the next prompt shares it): fewer
      // cells in use keep every later decode's attention short.
      for (const r of ready) {
        this.#context.kvRemove(r.seqId, r.head.nPast, -1);
        r.slot.kv = truncateKvState(r.slot.kv, r.head);
      }
    }
  }

  /** Evaluates one completeMany() prompt into its session's sequence and saves its logits. */
  async #evaluateForMany(index: number, request: CompletionRequest): Promise<EvaluatedRequest> {
    const started = performance.now();
    const marker = this.info.imageMarker;
    const { rendered, slot, plan } = this.#prepareSequence(request);
    let keep = plan.keep;
    let remainder = plan.remainder;
    const firstImage = remainder.indexOf(marker);
    if (firstImage > 0) {
      // The text before the first image becomes a checkpoint other sequences can copy.
      const head = remainder.slice(0, firstImage);
      const ev = await this.#mtmd.evalPrompt(
        this.#context,
        slot.seqId,
        keep.nPast,
        stripImageKeys(head),
        [],
        { addSpecial: keep.nPast === 0, parseSpecial: true, logitsLast: false },
      );
      slot.kv = appendToKvState(slot.kv, head, ev.nPast);
      keep = { textLength: keep.textLength + head.length, nPast: ev.nPast };
      remainder = remainder.slice(firstImage);
    }
    const skipImages = countImageMarkers(rendered.slice(0, keep.textLength), marker);
    const bitmaps = request.images.slice(skipImages).map((image) => this.#bitmap(image));
    try {
      const evaluated = await this.#mtmd.evalPrompt(
        this.#context,
        slot.seqId,
        keep.nPast,
        stripImageKeys(remainder),
        bitmaps,
        { addSpecial: keep.nPast === 0, parseSpecial: true },
      );
      slot.kv = appendEvaluation(slot.kv, { keep, remainder }, evaluated, marker);
      if (!evaluated.logitsReady) {
        throw new LlavaDeskError('INVALID_ARGUMENT', 'A prompt must end in text to be answered.');
      }
      return {
        index,
        slot,
        head: keep,
        seqId: slot.seqId,
        nPast: evaluated.nPast,
        logits: this.#bridge.addon.readLogits(this.#context),
        evaluated,
        reusedTokens: plan.keep.nPast,
        promptTokens: evaluated.nPast - plan.keep.nPast,
        started,
        promptDone: performance.now(),
      };
    } finally {
      for (const bitmap of bitmaps) bitmap.dispose();
    }
  }

  /**
   * Renders the request with its images keyed, gives its session a sequence (starting from the
   * longest prefix any sequence holds, copied rather than recomputed) and cuts that sequence's
   * cache where the new prompt stops sharing it.
   */
  #prepareSequence(request: CompletionRequest): {
    rendered: string;
    slot: SequenceSlot;
    plan: ContinuationPlan;
  } {
    const marker = this.info.imageMarker;
    const plainPrompt = this.#render(request);
    const markers = countImageMarkers(plainPrompt, marker);
    if (markers !== request.images.length) {
      throw new LlavaDeskError(
        'INVALID_ARGUMENT',
        `The prompt has ${markers} image place(s) but ${request.images.length} image(s) were given.`,
      );
    }
    const rendered = keyImageMarkers(
      plainPrompt,
      marker,
      request.images.map((image) => image.id),
    );
    const { slot, donor } = this.#pool.acquire(request.sessionId, rendered);
    if (donor) {
      const shared = planContinuation(donor.kv, rendered).keep;
      this.#context.kvRemove(slot.seqId, 0, -1);
      this.#context.kvCopy(donor.seqId, slot.seqId, 0, shared.nPast);
      slot.kv = truncateKvState(donor.kv, shared);
    }
    const plan = planContinuation(slot.kv, rendered);
    if (plan.keep.nPast < this.#context.kvPosMax(slot.seqId) + 1) {
      this.#context.kvRemove(slot.seqId, plan.keep.nPast, -1);
    }
    slot.kv = truncateKvState(slot.kv, plan.keep);
    return { rendered, slot, plan };
  }

  #render(request: CompletionRequest): string {
    if (request.raw !== undefined) return request.raw;
    if (!request.conversation) {
      throw new LlavaDeskError(
        'INVALID_ARGUMENT',
        'A completion needs a conversation or raw text.',
      );
    }
    const conversation = request.conversation;
    const system = conversation.system ?? this.defaultSystem;
    return this.#template.render(
      system === undefined ? conversation : { ...conversation, system },
      this.info.imageMarker,
    );
  }

  /**
   * The text of the answer tokens that are in the KV cache. After an abort or a full context the
   * last sampled token is returned but was never decoded, so it is left out.
   */
  #cachedAnswerText(
    request: CompletionRequest,
    prompt: string,
    answer: string,
    generated: NativeGenerateResult,
    promptNPast: number,
  ): string {
    const decoded = generated.nPast - promptNPast;
    if (decoded === generated.tokens.length) {
      return this.#answerAsRendered(request, prompt, answer) ?? generated.text;
    }
    const partial = this.#model.detokenize(generated.tokens.slice(0, Math.max(0, decoded)));
    return this.#answerAsRendered(request, prompt, answerText(partial)) ?? partial;
  }

  /**
   * The answer as the template will render it in the next call (the glue before it included), so
   * that render shares the cache's text as a prefix. The cache keeps the tokens the model actually
   * generated, as chat engines do; only where the two differ (leading spaces) is this a
   * convention. Undefined when the template renders history in a way that cannot be matched.
   */
  #answerAsRendered(
    request: CompletionRequest,
    prompt: string,
    answer: string,
  ): string | undefined {
    const conversation = request.conversation;
    const last = conversation?.turns.at(-1);
    if (!conversation || !last) return undefined;
    const turns = [...conversation.turns.slice(0, -1), { ...last, assistant: answer }];
    const withAnswer = keyImageMarkers(
      this.#render({ ...request, conversation: { ...conversation, turns } }),
      this.info.imageMarker,
      request.images.map((image) => image.id),
    );
    if (!withAnswer.startsWith(prompt)) return undefined;
    const region = withAnswer.slice(prompt.length);
    const at = region.indexOf(answer);
    return at < 0 ? undefined : region.slice(0, at + answer.length);
  }

  #bitmap(image: RequestImage): NativeBitmap {
    const rgb = image.rgb;
    if (!rgb) throw pixelsNeeded([image.id]);
    if (rgb.length !== image.width * image.height * 3) {
      throw new LlavaDeskError(
        'INVALID_ARGUMENT',
        `Image ${image.id}: ${rgb.length} bytes is not ${image.width}x${image.height} RGB.`,
      );
    }
    return this.#mtmd.createBitmap(image.width, image.height, rgb, image.id);
  }
}

/**
 * Records the evaluation in the sequence's cache state, with a boundary after each image: a later
 * prompt that shares the text up to an image (same system prompt and picture, another question)
 * reuses everything up to there.
 */
function appendEvaluation(
  kv: KvState,
  plan: ContinuationPlan,
  evaluated: NativeEvalPromptResult,
  marker: string,
): KvState {
  const total = evaluated.chunks.reduce((sum, c) => sum + c.nTokens, 0);
  let next = kv;
  // Positions equal token counts for LLaVA-style projectors; otherwise keep only the end.
  if (total === evaluated.nPast - plan.keep.nPast) {
    let nPast = plan.keep.nPast;
    let searchFrom = 0;
    for (const chunk of evaluated.chunks) {
      nPast += chunk.nTokens;
      if (chunk.type !== 'image') continue;
      const at = plan.remainder.indexOf(marker, searchFrom);
      if (at < 0) break;
      searchFrom = markerEnd(plan.remainder, at, marker);
      if (nPast < evaluated.nPast) {
        next = appendToKvState(
          next,
          plan.remainder.slice(next.text.length - kv.text.length, searchFrom),
          nPast,
        );
      }
    }
  }
  return appendToKvState(
    next,
    plan.remainder.slice(next.text.length - kv.text.length),
    evaluated.nPast,
  );
}

/** A completeMany() request whose prompt is in its sequence, waiting for generation. */
interface EvaluatedRequest {
  index: number;
  slot: SequenceSlot;
  /** Where the text before the first image ends in the sequence. */
  head: KvCheckpoint;
  seqId: number;
  nPast: number;
  logits: Float32Array;
  evaluated: NativeEvalPromptResult;
  reusedTokens: number;
  promptTokens: number;
  started: number;
  promptDone: number;
}

/**
 * The answer starts after the template's separator: the whitespace a model generates first (the
 * space after "ASSISTANT:") is not part of it. The one place that rule lives: the final text and
 * the streamed pieces (`answerPieces`) both follow it, so the pieces join to exactly the text and
 * no consumer trims again.
 */
function answerText(generated: string): string {
  return generated.trimStart();
}

/** Turns the generated pieces, in order, into the answer's pieces (leading whitespace dropped). */
function answerPieces(): (piece: string) => string {
  let started = false;
  return (piece) => {
    if (started) return piece;
    const text = answerText(piece);
    started = text !== '';
    return text;
  };
}

function streamAnswer(
  onToken: ((event: TokenEvent) => void) | undefined,
): ((token: number, text: string) => void) | undefined {
  if (!onToken) return undefined;
  const piece = answerPieces();
  return (token, text) => onToken({ token, text: piece(text) });
}

/** Refuses images sent without pixels where they must be evaluated (ENGINE_IMAGES_NEEDED). */
function requirePixels(images: readonly RequestImage[]): void {
  const missing = images.filter((image) => !image.rgb).map((image) => image.id);
  if (missing.length > 0) throw pixelsNeeded(missing);
}

function pixelsNeeded(ids: readonly string[]): LlavaDeskError {
  return new LlavaDeskError(
    'ENGINE_IMAGES_NEEDED',
    `The session's cache does not hold image(s) ${ids.join(', ')}: send their pixels.`,
  );
}

function manyResult(r: EvaluatedRequest, g: NativeGenerateResult, finished: number): AskResult {
  const promptMs = r.promptDone - r.started;
  return {
    text: answerText(g.text),
    tokens: g.tokens,
    stopReason: g.stopReason === 'callbackError' ? 'aborted' : g.stopReason,
    stats: {
      imageEncodeMs: r.evaluated.encodeMs,
      imageTokens: r.evaluated.imageTokens,
      cachedImages: r.evaluated.cachedImages,
      promptTokens: r.promptTokens,
      promptMs,
      reusedTokens: r.reusedTokens,
      generatedTokens: g.tokens.length,
      tokensPerSecond: g.tokensPerSecond,
      timeToFirstTokenMs: g.tokens.length > 0 ? promptMs + g.firstTokenMs : 0,
      totalMs: finished - r.started,
    },
  };
}

function nativeSampling(sampling: SamplingOptions): NativeGenerateOptions {
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

function stoppedBeforeFirstToken(nPast: number): NativeGenerateResult {
  return {
    tokens: [],
    text: '',
    nPast,
    stopReason: 'aborted',
    eogToken: null,
    firstTokenMs: 0,
    totalMs: 0,
    tokensPerSecond: 0,
  };
}

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
