// The answer as its caller gets it, for a single answer and a batch's alike: the text (leading
// whitespace dropped once), the streamed pieces that join to exactly that text, and the stats.
import type { AskResult, TokenEvent } from '../api/engine.js';
import type { NativeEvalPromptResult, NativeGenerateResult } from './native/binding.js';

/** A prompt in its sequence, timed: what the answer's stats say about the prompt. */
export interface PromptEvaluation {
  /** The evaluation that ended the prompt (its images, its logits). */
  evaluated: NativeEvalPromptResult;
  /** Tokens the sequence already held (copied or kept), not evaluated again. */
  reusedTokens: number;
  /** Tokens evaluated for this prompt. */
  promptTokens: number;
  /** performance.now() when the request was taken up and when its prompt was evaluated. */
  started: number;
  promptDone: number;
}

/**
 * The answer starts after the template's separator: the whitespace a model generates first (the
 * space after "ASSISTANT:") is not part of it. The one place that rule lives: the final text and
 * the streamed pieces (`answerPieces`) both follow it, so the pieces join to exactly the text and
 * no consumer trims again.
 */
export function answerText(generated: string): string {
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

/** The native generate()'s token callback for one answer's `onToken`. */
export function streamAnswer(
  onToken: ((event: TokenEvent) => void) | undefined,
): ((token: number, text: string) => void) | undefined {
  if (!onToken) return undefined;
  const piece = answerPieces();
  return (token, text) => onToken({ token, text: piece(text) });
}

/** The answer and its stats; `finished` is performance.now() once the answer is complete. */
export function answerResult(
  prompt: PromptEvaluation,
  generated: NativeGenerateResult,
  finished: number,
): AskResult {
  const promptMs = prompt.promptDone - prompt.started;
  return {
    text: answerText(generated.text),
    tokens: generated.tokens,
    stopReason: generated.stopReason === 'callbackError' ? 'aborted' : generated.stopReason,
    stats: {
      imageEncodeMs: prompt.evaluated.encodeMs,
      imageTokens: prompt.evaluated.imageTokens,
      cachedImages: prompt.evaluated.cachedImages,
      promptTokens: prompt.promptTokens,
      promptMs,
      reusedTokens: prompt.reusedTokens,
      generatedTokens: generated.tokens.length,
      tokensPerSecond: generated.tokensPerSecond,
      timeToFirstTokenMs: generated.tokens.length > 0 ? promptMs + generated.firstTokenMs : 0,
      totalMs: finished - prompt.started,
    },
  };
}

/** The generation of an answer stopped before its first token. */
export function stoppedBeforeFirstToken(nPast: number): NativeGenerateResult {
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
