// The one way a request becomes an answer, for complete() and completeMany() alike: wait for a
// free sequence (SequenceGate), render the request, give its session a sequence cut to what it
// shares, evaluate the rest of the prompt (images as bitmaps) with the context to itself, then
// generate beside every other answer under way (DecodeScheduler), and report the answer with its
// stats. Aborting a signal stops the evaluation, or the generation at the next token.
import type { AskResult } from '../api/engine.js';
import { LlavaDeskError, serializeError } from '../common/errors.js';
import { answerResult, answerText, stoppedBeforeFirstToken, streamAnswer } from './answer-stats.js';
import { DecodeScheduler, type WorkPriority } from './decode-scheduler.js';
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
import { SequenceGate } from './sequence-gate.js';
import { SequencePool, type SequenceSlot } from './sequence-pool.js';

/** A request rendered and given a sequence, cut to the prefix it shares. */
interface PreparedSequence {
  rendered: string;
  slot: SequenceSlot;
  plan: ContinuationPlan;
}

/** A request's prompt in its sequence, with the logits its answer starts from. */
interface EvaluatedPrompt {
  sequence: PreparedSequence;
  evaluated: NativeEvalPromptResult;
  /** Where the text before the first image ends (batch items keep only that afterwards). */
  head: KvCheckpoint;
  /** Tokens evaluated for this prompt. */
  promptTokens: number;
  logits: Float32Array | undefined;
}

/** How an answer is taken up: interactive work first; batch items share a prompt head. */
interface AnswerMode {
  priority: WorkPriority;
}

const INTERACTIVE: AnswerMode = { priority: 'interactive' };
const BATCH: AnswerMode = { priority: 'batch' };

export class AnswerPipeline {
  readonly #parts: EngineParts;
  readonly #renderer: RequestRenderer;
  readonly #pool: SequencePool;
  readonly #scheduler: DecodeScheduler;
  readonly #gate: SequenceGate;
  /** The last answer of each session: a session's answers run one after another. */
  readonly #sessions = new Map<string, Promise<unknown>>();

  constructor(parts: EngineParts, renderer: RequestRenderer) {
    this.#parts = parts;
    this.#renderer = renderer;
    this.#pool = new SequencePool(parts.info.parallel);
    this.#scheduler = new DecodeScheduler(parts.bridge.addon, parts.model, parts.context);
    this.#gate = new SequenceGate(parts.info.parallel, (seqId) => this.#scheduler.preempt(seqId));
  }

  /**
   * One answer; its sequence keeps the prompt and the answer for the session's next call. It
   * starts as soon as a sequence is free, generating beside the other answers under way.
   */
  answer(request: CompletionRequest, callbacks: CompletionCallbacks): Promise<AskResult> {
    return this.#inSession(request.sessionId, () => this.#answer(request, callbacks, INTERACTIVE));
  }

  /**
   * Several answers (distinct sessions, at most `info.parallel`), generated together; a batch's
   * items: an interactive answer may take one's sequence (that outcome is PREEMPTED). A request's
   * failure is its own outcome. The sequences keep their prompts' text before the first image
   * (shared by the next items), not the answers.
   */
  answerMany(
    requests: readonly CompletionRequest[],
    callbacks: ManyCallbacks,
  ): Promise<ManyOutcome[]> {
    const onToken = callbacks.onToken;
    return Promise.all(
      requests.map(async (request, index): Promise<ManyOutcome> => {
        try {
          const value = await this.#inSession(request.sessionId, () =>
            this.#answer(
              request,
              {
                ...(onToken ? { onToken: (event) => onToken(index, event) } : {}),
                ...(callbacks.signal ? { signal: callbacks.signal } : {}),
              },
              BATCH,
            ),
          );
          return { ok: true, value };
        } catch (error) {
          return { ok: false, error: serializeError(error) };
        }
      }),
    );
  }

  /** Runs `work` with the context to itself, between decode steps (a diagnostic's encode). */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.#scheduler.exclusive(work);
  }

  /**
   * Frees the session's sequence after the session's answer under way; its KV cache is cleared,
   * or with `keepCache` kept as a prefix other sessions may copy.
   */
  closeSession(sessionId: string, keepCache: boolean): Promise<void> {
    return this.#inSession(sessionId, () =>
      this.#scheduler.exclusive(async () => {
        const slot = this.#pool.release(sessionId);
        if (slot && !keepCache) {
          this.#parts.context.kvRemove(slot.seqId, 0, -1);
          this.#pool.reset(slot);
        }
      }),
    );
  }

  /** Lets the answers already asked for finish, then waits until the context is free. */
  async close(): Promise<void> {
    while (this.#sessions.size > 0) await Promise.allSettled([...this.#sessions.values()]);
    this.#gate.close(new LlavaDeskError('ENGINE_NOT_LOADED', 'The engine was unloaded.'));
    await this.#scheduler.stopAll();
  }

  async #answer(
    request: CompletionRequest,
    callbacks: CompletionCallbacks,
    mode: AnswerMode,
  ): Promise<AskResult> {
    const signal = callbacks.signal;
    const hold = await this.#gate.enter(mode.priority, signal);
    let slot: SequenceSlot | undefined;
    let head: KvCheckpoint | undefined;
    try {
      const started = performance.now();
      const prompt = await this.#scheduler.exclusive(
        async () => {
          const sequence = this.#prepareSequence(request);
          slot = sequence.slot;
          slot.busy = true;
          return this.#evaluatePrompt(request, sequence, mode, signal);
        },
        { priority: mode.priority, ...(signal ? { signal } : {}) },
      );
      const promptDone = performance.now();
      const { sequence, evaluated } = prompt;
      head = prompt.head;
      let generated: NativeGenerateResult;
      if (signal?.aborted) {
        generated = stoppedBeforeFirstToken(evaluated.nPast);
      } else {
        if (!prompt.logits) {
          throw new LlavaDeskError(
            mode === BATCH ? 'INVALID_ARGUMENT' : 'NO_LOGITS',
            'A prompt must end in text to be answered.',
          );
        }
        hold.generating(sequence.slot.seqId);
        generated = await this.#scheduler.generate({
          seqId: sequence.slot.seqId,
          nPast: evaluated.nPast,
          logits: prompt.logits,
          options: nativeSampling(request.sampling),
          ...(callbacks.onToken ? { onToken: streamAnswer(callbacks.onToken) } : {}),
          ...(signal ? { signal } : {}),
        });
      }
      if (mode === INTERACTIVE) {
        sequence.slot.kv = appendToKvState(
          sequence.slot.kv,
          this.#cachedAnswerText(request, sequence.rendered, generated, evaluated),
          generated.nPast,
        );
      }
      const evaluation = {
        evaluated,
        reusedTokens: sequence.plan.keep.nPast,
        promptTokens: prompt.promptTokens,
        started,
        promptDone,
      };
      return answerResult(evaluation, generated, performance.now());
    } finally {
      const used = slot;
      if (used && head && mode === BATCH) await this.#keepHead(used, head);
      if (used) used.busy = false;
      hold.release();
    }
  }

  /**
   * Batch sequences keep only the text before the image (the next item's prompt shares it):
   * fewer cells in use keep every later decode's attention short.
   */
  async #keepHead(slot: SequenceSlot, head: KvCheckpoint): Promise<void> {
    await this.#scheduler.exclusive(
      async () => {
        this.#parts.context.kvRemove(slot.seqId, head.nPast, -1);
        slot.kv = truncateKvState(slot.kv, head);
      },
      { priority: 'batch' },
    );
  }

  /**
   * Evaluates the rest of the prompt into its sequence. A batch item evaluates the text before
   * its first image on its own first: a checkpoint other sequences copy.
   */
  async #evaluatePrompt(
    request: CompletionRequest,
    sequence: PreparedSequence,
    mode: AnswerMode,
    signal: AbortSignal | undefined,
  ): Promise<EvaluatedPrompt> {
    const marker = this.#parts.info.imageMarker;
    const { slot, plan } = sequence;
    let keep = plan.keep;
    let remainder = plan.remainder;
    let headTokens = 0;
    const firstImage = remainder.indexOf(marker);
    if (mode === BATCH && firstImage > 0) {
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
      headTokens = ev.nPast - keep.nPast;
      keep = { textLength: keep.textLength + head.length, nPast: ev.nPast };
      remainder = remainder.slice(firstImage);
    }
    const rest = { ...sequence, plan: { keep, remainder } };
    const evaluated = await this.#evaluate(request, rest, signal);
    return {
      sequence,
      evaluated,
      head: keep,
      promptTokens: headTokens + evaluated.textTokens + evaluated.imageTokens,
      logits: evaluated.logitsReady
        ? this.#parts.bridge.addon.readLogits(this.#parts.context)
        : undefined,
    };
  }

  /** Runs `work` after the session's previous answer settled. */
  #inSession<T>(sessionId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#sessions.get(sessionId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    const tail = next.catch(() => undefined);
    this.#sessions.set(sessionId, tail);
    void tail.then(() => {
      if (this.#sessions.get(sessionId) === tail) this.#sessions.delete(sessionId);
    });
    return next;
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

  /**
   * The text of the answer tokens that are in the KV cache. After an abort or a full context the
   * last sampled token is returned but was never decoded, so it is left out.
   */
  #cachedAnswerText(
    request: CompletionRequest,
    prompt: string,
    generated: NativeGenerateResult,
    evaluated: NativeEvalPromptResult,
  ): string {
    const answer = answerText(generated.text);
    const decoded = generated.nPast - evaluated.nPast;
    if (decoded === generated.tokens.length) {
      return this.#renderer.answerAsRendered(request, prompt, answer) ?? generated.text;
    }
    const partial = this.#parts.model.detokenize(generated.tokens.slice(0, Math.max(0, decoded)));
    return this.#renderer.answerAsRendered(request, prompt, answerText(partial)) ?? partial;
  }
}
