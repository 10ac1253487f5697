// The one loop that uses the engine's context: work that needs the context to itself (a prompt
// evaluated, a cache edited) runs between decode steps, and every sequence that is generating
// gets one token per step, all of them decoded together (native decodeStep). A question asked
// while other answers are being written starts at once and takes its turn at every step.
import { TextDecoder } from 'node:util';
import { LlavaDeskError } from '../common/errors.js';
import type {
  NativeAddon,
  NativeContext,
  NativeGenerateOptions,
  NativeGenerateResult,
  NativeModel,
  NativeSampler,
  NativeStepOutcome,
  NativeTokenCallback,
} from './native/binding.js';

/** Interactive work (chat, ask window, API) runs before batch work that waits with it. */
export type WorkPriority = 'interactive' | 'batch';

/** An answer's length when the request names none: the native sampler's own default (sampling.h). */
const DEFAULT_MAX_TOKENS = 256;

/** A sequence whose prompt is evaluated, ready to generate its answer. */
export interface GenerationRequest {
  seqId: number;
  /** Position after the prompt. */
  nPast: number;
  /** readLogits() right after the prompt was evaluated. */
  logits: Float32Array;
  options: NativeGenerateOptions;
  onToken?: NativeTokenCallback;
  /** Aborting stops the answer before the next step; the tokens so far are its result. */
  signal?: AbortSignal;
}

interface ContextTask {
  run: () => Promise<void>;
  /** Rejects the task's promise without running it. */
  fail: (error: unknown) => void;
  priority: WorkPriority;
}

interface RunningSequence {
  request: GenerationRequest;
  sampler: NativeSampler;
  logits: Float32Array;
  nPast: number;
  tokens: number[];
  text: string;
  decoder: TextDecoder;
  started: number;
  firstTokenMs: number;
  /** Set to end the sequence at the next step boundary (or, for an error, as soon as it is seen). */
  ending?: { reason: 'aborted' } | { error: unknown };
  resolve: (result: NativeGenerateResult) => void;
  reject: (error: unknown) => void;
}

export class DecodeScheduler {
  readonly #addon: NativeAddon;
  readonly #context: NativeContext;
  readonly #model: NativeModel;
  readonly #tasks: ContextTask[] = [];
  #running: RunningSequence[] = [];
  #pumping = false;
  #stepping = false;

  constructor(addon: NativeAddon, model: NativeModel, context: NativeContext) {
    this.#addon = addon;
    this.#model = model;
    this.#context = context;
  }

  /** Sequences generating now. */
  get generating(): readonly number[] {
    return this.#running.map((s) => s.request.seqId);
  }

  /**
   * Runs `work` with the context to itself, between two decode steps (interactive work before
   * batch work; while sequences generate, tasks and steps take turns). A task whose signal
   * aborts while it waits never starts (ABORTED); one that runs has the signal wired to
   * context.abort(), which stops its evaluation and nothing else.
   */
  exclusive<T>(
    work: () => Promise<T>,
    options: { priority?: WorkPriority; signal?: AbortSignal } = {},
  ): Promise<T> {
    const { signal } = options;
    return new Promise<T>((resolve, reject) => {
      const task: ContextTask = {
        priority: options.priority ?? 'interactive',
        fail: reject,
        run: async () => {
          if (signal?.aborted) {
            reject(new LlavaDeskError('ABORTED', 'Stopped before it started.'));
            return;
          }
          const onAbort = (): void => this.#context.abort();
          signal?.addEventListener('abort', onAbort, { once: true });
          try {
            resolve(await work());
          } catch (error) {
            reject(error);
          } finally {
            signal?.removeEventListener('abort', onAbort);
          }
        },
      };
      const at =
        task.priority === 'interactive' ? this.#tasks.findIndex((t) => t.priority === 'batch') : -1;
      if (at < 0) this.#tasks.push(task);
      else this.#tasks.splice(at, 0, task);
      this.#pump();
    });
  }

  /**
   * Generates the sequence's answer one token per step beside the other generating sequences.
   * Resolves with the tokens (stop reason eog, maxTokens, contextFull or aborted); rejects when
   * the token callback throws, the sequence is preempted (PREEMPTED) or a decode fails.
   */
  generate(request: GenerationRequest): Promise<NativeGenerateResult> {
    return new Promise<NativeGenerateResult>((resolve, reject) => {
      let sampler: NativeSampler;
      try {
        sampler = this.#addon.createSampler(this.#model, request.options);
      } catch (error) {
        reject(error);
        return;
      }
      const sequence: RunningSequence = {
        request,
        sampler,
        logits: request.logits,
        nPast: request.nPast,
        tokens: [],
        text: '',
        decoder: new TextDecoder('utf-8'),
        started: performance.now(),
        firstTokenMs: 0,
        resolve,
        reject,
      };
      if ((request.options.maxTokens ?? DEFAULT_MAX_TOKENS) <= 0) {
        resolve(this.#result(sequence, 'maxTokens', null));
        return;
      }
      this.#running.push(sequence);
      this.#pump();
    });
  }

  /** Ends a generating sequence at the next step boundary; its generate() rejects with PREEMPTED. */
  preempt(seqId: number): boolean {
    const sequence = this.#running.find((s) => s.request.seqId === seqId && !s.ending);
    if (!sequence) return false;
    sequence.ending = {
      error: new LlavaDeskError(
        'PREEMPTED',
        'An interactive request took this sequence; the item is described again.',
      ),
    };
    this.#pump();
    return true;
  }

  /** Ends every generating sequence (aborted) and waits until the context is free. */
  async stopAll(): Promise<void> {
    for (const s of this.#running) s.ending ??= { reason: 'aborted' };
    if (this.#stepping) this.#context.abort();
    await this.exclusive(async () => undefined);
  }

  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    void this.#loop()
      .catch((error: unknown) => this.#failAll(error))
      .finally(() => {
        this.#pumping = false;
        // Work queued while the loop was finishing.
        if (this.#tasks.length > 0 || this.#running.length > 0) this.#pump();
      });
  }

  /** A fault of the loop itself (not of one decode): everything waiting on it gets the error. */
  #failAll(error: unknown): void {
    for (const task of this.#tasks.splice(0)) task.fail(error);
    for (const s of [...this.#running]) {
      s.ending = { error };
      this.#settle(s, 'aborted', null);
    }
  }

  async #loop(): Promise<void> {
    let lastWasTask = false;
    for (;;) {
      this.#endMarked();
      const canStep = this.#running.length > 0;
      const task = !canStep || !lastWasTask ? this.#tasks.shift() : undefined;
      if (task) {
        await task.run();
        lastWasTask = true;
        continue;
      }
      if (!canStep) return;
      await this.#step();
      lastWasTask = false;
    }
  }

  /** Ends the sequences aborted or preempted since the last step. */
  #endMarked(): void {
    for (const s of this.#running) {
      if (!s.ending && s.request.signal?.aborted) s.ending = { reason: 'aborted' };
    }
    for (const s of this.#running.filter((r) => r.ending)) this.#settle(s, 'aborted', null);
  }

  async #step(): Promise<void> {
    const batch = [...this.#running];
    let outcomes: NativeStepOutcome[];
    this.#stepping = true;
    try {
      outcomes = await this.#addon.decodeStep(
        this.#context,
        batch.map((s) => ({
          seqId: s.request.seqId,
          nPast: s.nPast,
          logits: s.logits,
          sampler: s.sampler,
          stopAtEog: s.request.options.stopAtEog ?? true,
        })),
      );
    } catch (error) {
      for (const s of batch) {
        s.ending = { error };
        this.#settle(s, 'aborted', null);
      }
      return;
    } finally {
      this.#stepping = false;
    }
    const now = performance.now();
    for (const [i, s] of batch.entries()) {
      const outcome = outcomes[i];
      const stop = outcome ? this.#advance(s, outcome, now) : undefined;
      if (stop) this.#settle(s, stop.reason, stop.eogToken);
    }
  }

  /** Takes one step's outcome into the sequence; says how it ended, if it did. */
  #advance(
    s: RunningSequence,
    outcome: NativeStepOutcome,
    now: number,
  ): { reason: NativeGenerateResult['stopReason']; eogToken: number | null } | undefined {
    if (s.tokens.length === 0) s.firstTokenMs = now - s.started;
    if (outcome.stop === 'eog') return { reason: 'eog', eogToken: outcome.token };
    s.tokens.push(outcome.token);
    this.#emit(s, outcome.token, s.decoder.decode(outcome.piece, { stream: true }));
    if (outcome.stop !== null) return { reason: outcome.stop, eogToken: null };
    s.nPast += 1;
    s.logits = outcome.logits ?? s.logits;
    if (s.tokens.length >= (s.request.options.maxTokens ?? DEFAULT_MAX_TOKENS)) {
      return { reason: 'maxTokens', eogToken: null };
    }
    return undefined;
  }

  /** Streams a piece to the sequence's callback; a callback that throws ends the sequence with its error. */
  #emit(s: RunningSequence, token: number, text: string): void {
    s.text += text;
    if (!s.request.onToken || (s.ending && 'error' in s.ending)) return;
    try {
      s.request.onToken(token, text);
    } catch (error) {
      s.ending = { error };
    }
  }

  /**
   * Takes the sequence out of the loop and settles its generate(): the error it was ended with,
   * or its tokens (with what the UTF-8 decoder still held streamed first).
   */
  #settle(
    s: RunningSequence,
    reason: NativeGenerateResult['stopReason'],
    eogToken: number | null,
  ): void {
    this.#running = this.#running.filter((r) => r !== s);
    const tail = s.decoder.decode();
    if (tail !== '') this.#emit(s, -1, tail);
    if (s.ending && 'error' in s.ending) s.reject(s.ending.error);
    else s.resolve(this.#result(s, reason, eogToken));
  }

  #result(
    s: RunningSequence,
    stopReason: NativeGenerateResult['stopReason'],
    eogToken: number | null,
  ): NativeGenerateResult {
    const totalMs = performance.now() - s.started;
    return {
      tokens: s.tokens,
      text: s.text,
      nPast: s.nPast,
      stopReason,
      eogToken,
      firstTokenMs: s.firstTokenMs,
      totalMs,
      tokensPerSecond: totalMs > 0 ? (s.tokens.length * 1000) / totalMs : 0,
    };
  }
}
