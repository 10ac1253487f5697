/**
 * Cuts a streamed answer at the first of its stop strings. Text that might be the start of a stop
 * string is held back until the next piece tells; nothing past a stop string is ever released.
 */
export class StopMatcher {
  readonly #stops: readonly string[];
  #held = '';
  #stopped = false;

  constructor(stops: readonly string[]) {
    this.#stops = stops.filter((s) => s !== '');
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Takes the next piece; returns the text now safe to release. */
  push(piece: string): string {
    if (this.#stopped) return '';
    const text = this.#held + piece;
    let cut = -1;
    for (const stop of this.#stops) {
      const at = text.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.#stopped = true;
      this.#held = '';
      return text.slice(0, cut);
    }
    const keep = this.#partialTail(text);
    this.#held = text.slice(text.length - keep);
    return text.slice(0, text.length - keep);
  }

  /** The end of the answer: what was held back is released. */
  flush(): string {
    const rest = this.#stopped ? '' : this.#held;
    this.#held = '';
    return rest;
  }

  /** Length of the longest end of `text` that begins some stop string. */
  #partialTail(text: string): number {
    let longest = 0;
    for (const stop of this.#stops) {
      for (let n = Math.min(stop.length - 1, text.length); n > longest; n -= 1) {
        if (stop.startsWith(text.slice(text.length - n))) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }
}
