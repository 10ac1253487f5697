import { randomUUID } from 'node:crypto';
import type { AskResult, PreparedImage, SamplingOptions, TokenEvent } from '../api/engine.js';
import { withShortAnswer, type PromptTurn } from './prompt/conversation.js';
import type { CompletionRequest } from './vision-engine.js';

/** Anything that completes conversations: the in-process engine or the engine process client. */
export interface CompletionEngine {
  complete(
    request: CompletionRequest,
    callbacks?: { onToken?: (event: TokenEvent) => void; signal?: AbortSignal },
  ): Promise<AskResult>;
  closeSession(sessionId: string): Promise<void>;
}

export interface AskInput {
  text: string;
  /** Prepared images of this message, in order (their markers open the message). */
  images?: readonly PreparedImage[];
  /** Appends LLaVA's "answer with a single word or phrase" prompt. */
  short?: boolean;
}

export interface AskCallbacks {
  onToken?: (event: TokenEvent) => void;
  signal?: AbortSignal;
}

interface Turn {
  input: AskInput;
  answer?: string;
}

/**
 * A multi-turn conversation about images. Every call sends the whole conversation; the engine
 * keeps the session's KV cache and evaluates only what changed, so a follow-up costs its new
 * tokens, a regenerate its last prompt, and an edit of turn k the turns from k on.
 */
export class ChatSession {
  readonly id: string;
  readonly #engine: CompletionEngine;
  readonly #system: string | undefined;
  readonly #sampling: SamplingOptions | undefined;
  #turns: Turn[] = [];

  constructor(
    engine: CompletionEngine,
    options: { id?: string; system?: string; sampling?: SamplingOptions } = {},
  ) {
    this.#engine = engine;
    this.id = options.id ?? randomUUID();
    this.#system = options.system;
    this.#sampling = options.sampling;
  }

  get turns(): ReadonlyArray<{ text: string; imageCount: number; answer?: string }> {
    return this.#turns.map((t) => ({
      text: t.input.text,
      imageCount: t.input.images?.length ?? 0,
      ...(t.answer !== undefined ? { answer: t.answer } : {}),
    }));
  }

  /** Asks a new question; a stopped answer keeps its partial text as the turn's answer. */
  ask(input: AskInput, callbacks: AskCallbacks = {}): Promise<AskResult> {
    this.#turns.push({ input });
    return this.#answerLastTurn(callbacks);
  }

  /** Answers the last question again (a new seed gives a new answer when sampling). */
  regenerate(callbacks: AskCallbacks = {}, sampling?: SamplingOptions): Promise<AskResult> {
    const last = this.#turns.at(-1);
    if (!last) return Promise.reject(new Error('nothing to regenerate: no question asked yet'));
    delete last.answer;
    return this.#answerLastTurn(callbacks, sampling);
  }

  /** Replaces question `index` (dropping the turns after it) and answers it. */
  edit(index: number, input: AskInput, callbacks: AskCallbacks = {}): Promise<AskResult> {
    if (index < 0 || index >= this.#turns.length) {
      return Promise.reject(new Error(`no turn ${index} to edit`));
    }
    this.#turns = [...this.#turns.slice(0, index), { input }];
    return this.#answerLastTurn(callbacks);
  }

  close(): Promise<void> {
    return this.#engine.closeSession(this.id);
  }

  async #answerLastTurn(callbacks: AskCallbacks, sampling?: SamplingOptions): Promise<AskResult> {
    const turns: PromptTurn[] = this.#turns.map((t) => ({
      user: withShortAnswer(t.input.text, t.input.short === true),
      imageCount: t.input.images?.length ?? 0,
      ...(t.answer !== undefined ? { assistant: t.answer } : {}),
    }));
    const last = this.#turns.at(-1) as Turn;
    try {
      const result = await this.#engine.complete(
        {
          sessionId: this.id,
          conversation: { ...(this.#system !== undefined ? { system: this.#system } : {}), turns },
          images: this.#turns.flatMap((t) => t.input.images ?? []),
          ...((sampling ?? this.#sampling) ? { sampling: sampling ?? this.#sampling } : {}),
        },
        callbacks,
      );
      last.answer = result.text;
      return result;
    } catch (error) {
      // A failed question leaves no trace: the user can send it again.
      if (last.answer === undefined) this.#turns.pop();
      throw error;
    }
  }
}
