/**
 * Runs `work` over `items` one at a time, in order, up to `ahead` items before the consumer:
 * the next images are read, decoded and prepared while the engine describes the current ones.
 * `work` reports failures in its result; it must not reject.
 */
export class Prefetcher<T, R> {
  readonly #items: readonly T[];
  readonly #work: (item: T) => Promise<R>;
  readonly #ahead: number;
  readonly #queue: Array<Promise<R>> = [];
  #next = 0;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(items: readonly T[], work: (item: T) => Promise<R>, ahead: number) {
    this.#items = items;
    this.#work = work;
    this.#ahead = Math.max(1, ahead);
    this.#fill();
  }

  /** The next result in item order, or undefined when every item has been taken. */
  async next(): Promise<R | undefined> {
    const head = this.#queue.shift();
    this.#fill();
    return head;
  }

  #fill(): void {
    while (this.#queue.length < this.#ahead && this.#next < this.#items.length) {
      const item = this.#items[this.#next] as T;
      this.#next += 1;
      const result = this.#chain.then(() => this.#work(item));
      this.#chain = result.catch(() => undefined);
      this.#queue.push(result);
    }
  }
}
