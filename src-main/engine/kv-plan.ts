/** A point in a sequence's KV cache where an evaluation ended: text so far, tokens so far. */
export interface KvCheckpoint {
  textLength: number;
  nPast: number;
}

/**
 * What a sequence's KV cache holds, as the prompt text that produced it (answers included), with
 * the evaluation boundaries. Cutting the cache is exact only at those boundaries.
 */
export interface KvState {
  text: string;
  /** Ascending; the first is always {0, 0}. */
  checkpoints: KvCheckpoint[];
}

export function emptyKvState(): KvState {
  return { text: '', checkpoints: [{ textLength: 0, nPast: 0 }] };
}

export interface ContinuationPlan {
  /** Keep the cache up to here and drop the rest. */
  keep: KvCheckpoint;
  /** Text to evaluate after `keep`. Never empty: generation needs fresh logits. */
  remainder: string;
}

/**
 * Plans the next evaluation for a full render of the conversation: keep the longest part of the
 * cache that the new render starts with (a follow-up keeps everything, an edit of turn k keeps
 * turns before k, a regenerate keeps all but the last prompt), evaluate only the rest.
 */
export function planContinuation(state: KvState, rendered: string): ContinuationPlan {
  const common = commonPrefixLength(state.text, rendered);
  let index = lastIndexAtMost(state.checkpoints, common);
  // Nothing new to evaluate (regenerate): step back one boundary to get logits again.
  while (index > 0 && state.checkpoints[index]!.textLength >= rendered.length) index -= 1;
  const keep = state.checkpoints[index]!;
  return { keep, remainder: rendered.slice(keep.textLength) };
}

/** The cache after dropping everything past `keep`. */
export function truncateKvState(state: KvState, keep: KvCheckpoint): KvState {
  return {
    text: state.text.slice(0, keep.textLength),
    checkpoints: state.checkpoints.filter((c) => c.textLength <= keep.textLength),
  };
}

export function appendToKvState(state: KvState, text: string, nPast: number): KvState {
  const next = state.text + text;
  return { text: next, checkpoints: [...state.checkpoints, { textLength: next.length, nPast }] };
}

/** What an evaluation reports that the cache state records: its chunks and where it ended. */
export interface EvaluatedChunks {
  readonly nPast: number;
  readonly chunks: readonly { readonly type: string; readonly nTokens: number }[];
}

/**
 * Records the evaluation of `plan.remainder` in the sequence's cache state, with a boundary after
 * each image: a later prompt that shares the text up to an image (same system prompt and picture,
 * another question) reuses everything up to there.
 */
export function appendEvaluation(
  kv: KvState,
  plan: ContinuationPlan,
  evaluated: EvaluatedChunks,
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

/**
 * How many image markers a prompt holds: the one count of them. The engine checks it against the
 * images given and finds how many images a kept cache prefix already holds; the CLI checks a
 * --raw prompt's placeholders with it. (The addon counts again only to word the error when
 * mtmd_tokenize itself refuses a mismatch.)
 */
export function countImageMarkers(text: string, marker: string): number {
  return countOccurrences(text, marker);
}

function countOccurrences(text: string, needle: string): number {
  if (needle === '') return 0;
  let count = 0;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) {
    count += 1;
  }
  return count;
}

function commonPrefixLength(a: string, b: string): number {
  const max = Math.min(a.length, b.length);
  let i = 0;
  while (i < max && a.charCodeAt(i) === b.charCodeAt(i)) i += 1;
  return i;
}

function lastIndexAtMost(checkpoints: readonly KvCheckpoint[], textLength: number): number {
  let index = 0;
  for (let i = 0; i < checkpoints.length; i += 1) {
    if (checkpoints[i]!.textLength <= textLength) index = i;
  }
  return index;
}

// Image identity inside the planning text: the marker text is the same for every image, so each
// marker is followed by its image's id between two control characters no prompt contains.
const KEY_OPEN = '\u0001';
const KEY_CLOSE = '\u0002';
const KEY_PATTERN = new RegExp(`${KEY_OPEN}[^${KEY_CLOSE}]*${KEY_CLOSE}`, 'g');

/** The prompt with each image marker followed by its image's id, in order. */
export function keyImageMarkers(text: string, marker: string, imageIds: readonly string[]): string {
  let index = 0;
  return text.split(marker).reduce((out, part, i) => {
    if (i === 0) return part;
    const id = imageIds[index] ?? '';
    index += 1;
    return `${out}${marker}${KEY_OPEN}${id}${KEY_CLOSE}${part}`;
  }, '');
}

/** The prompt text as the runtime gets it (image ids removed). */
export function stripImageKeys(text: string): string {
  return text.replace(KEY_PATTERN, '');
}

/** End of the marker at `at`, including its image key when there is one. */
export function markerEnd(text: string, at: number, marker: string): number {
  const end = at + marker.length;
  if (text[end] !== KEY_OPEN) return end;
  const close = text.indexOf(KEY_CLOSE, end);
  return close < 0 ? end : close + 1;
}
