import { LlavaDeskError } from '../common/errors.js';

/**
 * Runs tasks one at a time in order. A task whose signal aborts while it waits is dropped with
 * ABORTED and never starts.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const result = this.#tail.then(() => {
      if (signal?.aborted) {
        throw new LlavaDeskError('ABORTED', 'Stopped before it started.');
      }
      return task();
    });
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
