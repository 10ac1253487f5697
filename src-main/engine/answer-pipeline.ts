// The one way a request becomes an answer, for complete() and completeMany() alike: render the
// request, give its session a sequence cut to what it shares, evaluate the rest of the prompt
// (images as bitmaps), generate, and report the answer with its stats. Runs one call at a time
// (VisionEngine queues them); aborting a signal stops the context's evaluation and generation.
import type { AskResult } from '../api/engine.js';
import { LlavaDeskError, serializeError } from '../common/errors.js';
import {
  answerResult,
  answerText,
  stoppedBeforeFirstToken,
  streamAnswer,
  streamAnswers,
  type PromptEvaluation,
} from './answer-stats.js';
import type { EngineParts } from './engine-loader.js';
import {
  nativeSampling,
  type CompletionCallbacks,
  type CompletionRequest,
  type ManyCallbacks,
  type ManyOutcome,
} from './engine-requests.js';
import {
  appendEvaluation,
  appendToKvState,
  countImageMarkers,
  planContinuation,
  stripImageKeys,
  truncateKvState,
  type ContinuationPlan,
  type KvCheckpoint,
} from './kv-plan.js';
import type { NativeEvalPromptResult, NativeGenerateResult } from './native/binding.js';
import { requirePixels, withBitmaps } from './request-images.js';
import type { RequestRenderer } from './request-render.js';
import { SequencePool, type SequenceSlot } from './sequence-pool.js';

/** A request rendered and given a sequence, cut to the prefix it shares. */
interface PreparedSequence {
  rendered: string;
  slot: SequenceSlot;
  plan: ContinuationPlan;
}

/** A completeMany() request whose prompt is in its sequence, waiting for generation. */
interface EvaluatedRequest {
  index: number;
  slot: SequenceSlot;
  /** Where the text before the first image ends in the sequence. */
  head: KvCheckpoint;
  nPast: number;
  logits: Float32Array;
  prompt: PromptEvaluation;
}

export class AnswerPipeline {
  readonly #parts: EngineParts;
  readonly #renderer: RequestRenderer;
  readonly #pool: SequencePool;

  constructor(parts: EngineParts, renderer: RequestRenderer) {
    this.#parts = parts;
    this.#renderer = renderer;
    this.#pool = new SequencePool(parts.info.parallel);
  }

  /** One answer; its sequence keeps the prompt and the answer for the session's next call. */
  async answer(request: CompletionRequest, callbacks: CompletionCallbacks): Promise<AskResult> {
    const started = performance.now();
    const sequence = this.#prepareSequence(request);
    const signal = callbacks.signal;
    const { evaluated, promptDone, generated } = await this.#abortable(signal, async () => {
      const evaluated = await this.#evaluate(request, sequence, signal);
      const promptDone = performance.now();
      const generated = signal?.aborted
        ? stoppedBeforeFirstToken(evaluated.nPast)
        : await this.#parts.bridge.addon.generate(
            this.#parts.context,
            sequence.slot.seqId,
            evaluated.nPast,
            nativeSampling(request.sampling),
            streamAnswer(callbacks.onToken),
          );
      return { evaluated, promptDone, generated };
    });
    const { slot, rendered, plan } = sequence;
    slot.kv = appendToKvState(
      slot.kv,
      this.#cachedAnswerText(request, rendered, answerText(generated.text), generated, evaluated),
      generated.nPast,
    );
    const prompt = {
      evaluated,
      reusedTokens: plan.keep.nPast,
      promptTokens: evaluated.textTokens + evaluated.imageTokens,
      started,
      promptDone,
    };
    return answerResult(prompt, generated, performance.now());
  }

  /**
   * Several answers (distinct sessions, at most `info.parallel`): the prompts are evaluated one
   * after another, then all are generated together. A request's failure is its own outcome. The
   * sequences keep their prompts' text before the first image, not the answers.
   */
  async answerMany(
    requests: readonly CompletionRequest[],
    callbacks: ManyCallbacks,
  ): Promise<ManyOutcome[]> {
    const signal = callbacks.signal;
    const outcomes: ManyOutcome[] = requests.map(() => ({
      ok: false,
      error: { code: 'ABORTED', message: 'Stopped before it started.' },
    }));
    const ready: EvaluatedRequest[] = [];
    try {
      return await this.#abortable(signal, async () => {
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
        const generated = await this.#parts.bridge.addon.generateMany(
          this.#parts.context,
          ready.map((r) => ({
            seqId: r.slot.seqId,
            nPast: r.nPast,
            logits: r.logits,
            options: nativeSampling(requests[r.index]?.sampling),
          })),
          streamAnswers(
            callbacks.onToken,
            ready.map((r) => r.index),
          ),
        );
        const finished = performance.now();
        for (const [i, r] of ready.entries()) {
          const g = generated[i];
          if (!g) continue;
          outcomes[r.index] = { ok: true, value: answerResult(r.prompt, g, finished) };
        }
        return outcomes;
      });
    } catch (error) {
      for (const r of ready) outcomes[r.index] = { ok: false, error: serializeError(error) };
      return outcomes;
    } finally {
      // Batch sequences keep only the text before the image (the next prompt shares it): fewer
      // cells in use keep every later decode's attention short.
      for (const r of ready) {
        this.#parts.context.kvRemove(r.slot.seqId, r.head.nPast, -1);
        r.slot.kv = truncateKvState(r.slot.kv, r.head);
      }
    }
  }

  /** Frees the session's sequence (its KV cache). */
  closeSession(sessionId: string): void {
    const slot = this.#pool.release(sessionId);
    if (slot) {
      this.#parts.context.kvRemove(slot.seqId, 0, -1);
      this.#pool.reset(slot);
    }
  }

  /** Evaluates one answerMany() prompt into its session's sequence and saves its logits. */
  async #evaluateForMany(index: number, request: CompletionRequest): Promise<EvaluatedRequest> {
    const started = performance.now();
    const marker = this.#parts.info.imageMarker;
    const { rendered, slot, plan } = this.#prepareSequence(request);
    let keep = plan.keep;
    let remainder = plan.remainder;
    const firstImage = remainder.indexOf(marker);
    if (firstImage > 0) {
      // The text before the first image becomes a checkpoint other sequences can copy.
      const head = remainder.slice(0, firstImage);
      const ev = await this.#parts.mtmd.evalPrompt(
        this.#parts.context,
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
    const evaluated = await this.#evaluate(request, { rendered, slot, plan: { keep, remainder } });
    if (!evaluated.logitsReady) {
      throw new LlavaDeskError('INVALID_ARGUMENT', 'A prompt must end in text to be answered.');
    }
    const logits = this.#parts.bridge.addon.readLogits(this.#parts.context);
    return {
      index,
      slot,
      head: keep,
      nPast: evaluated.nPast,
      logits,
      prompt: {
        evaluated,
        reusedTokens: plan.keep.nPast,
        promptTokens: evaluated.nPast - plan.keep.nPast,
        started,
        promptDone: performance.now(),
      },
    };
  }

  /**
   * Renders the request with its images keyed, gives its session a sequence (starting from the
   * longest prefix any sequence holds, copied rather than recomputed) and cuts that sequence's
   * cache where the new prompt stops sharing it.
   */
  #prepareSequence(request: CompletionRequest): PreparedSequence {
    const context = this.#parts.context;
    const rendered = this.#renderer.keyed(request);
    const { slot, donor } = this.#pool.acquire(request.sessionId, rendered);
    if (donor) {
      const shared = planContinuation(donor.kv, rendered).keep;
      context.kvRemove(slot.seqId, 0, -1);
      context.kvCopy(donor.seqId, slot.seqId, 0, shared.nPast);
      slot.kv = truncateKvState(donor.kv, shared);
    }
    const plan = planContinuation(slot.kv, rendered);
    if (plan.keep.nPast < context.kvPosMax(slot.seqId) + 1) {
      context.kvRemove(slot.seqId, plan.keep.nPast, -1);
    }
    slot.kv = truncateKvState(slot.kv, plan.keep);
    return { rendered, slot, plan };
  }

  /**
   * Evaluates the plan's remainder into the sequence and records it in the sequence's cache
   * state. Refuses (ENGINE_IMAGES_NEEDED) before any evaluation when an image it must evaluate
   * came without pixels: the sequence was only cut to the prefix it shares, which the resent
   * request shares too. With a signal, one aborted already stops it before it evaluates.
   */
  async #evaluate(
    request: CompletionRequest,
    sequence: PreparedSequence,
    signal?: AbortSignal,
  ): Promise<NativeEvalPromptResult> {
    const marker = this.#parts.info.imageMarker;
    const { rendered, slot, plan } = sequence;
    const inCache = countImageMarkers(rendered.slice(0, plan.keep.textLength), marker);
    const images = request.images.slice(inCache);
    requirePixels(images);
    return withBitmaps(this.#parts.mtmd, images, async (bitmaps) => {
      if (signal?.aborted) throw new LlavaDeskError('ABORTED', 'Stopped before it started.');
      const evaluated = await this.#parts.mtmd.evalPrompt(
        this.#parts.context,
        slot.seqId,
        plan.keep.nPast,
        stripImageKeys(plan.remainder),
        bitmaps,
        { addSpecial: plan.keep.nPast === 0, parseSpecial: true },
      );
      slot.kv = appendEvaluation(slot.kv, plan, evaluated, marker);
      return evaluated;
    });
  }

  /** Runs `work` with the signal wired to the context, which checks it between and in decodes. */
  async #abortable<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    const onAbort = (): void => this.#parts.context.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await work();
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
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
    evaluated: NativeEvalPromptResult,
  ): string {
    const decoded = generated.nPast - evaluated.nPast;
    if (decoded === generated.tokens.length) {
      return this.#renderer.answerAsRendered(request, prompt, answer) ?? generated.text;
    }
    const partial = this.#parts.model.detokenize(generated.tokens.slice(0, Math.max(0, decoded)));
    return this.#renderer.answerAsRendered(request, prompt, answerText(partial)) ?? partial;
  }
}
