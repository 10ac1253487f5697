import type { BatchEvent } from './types.js';

export interface ProgressSnapshot {
  total: number;
  described: number;
  skipped: number;
  failed: number;
  /** Images not finished yet. */
  remaining: number;
  /** Images described per minute since the first one started (0 until one is done). */
  perMinute: number;
  /** Estimated time left; undefined until the rate is known. */
  etaMs: number | undefined;
}

/** Counts, rate and ETA from a job's events: what the progress bar and the Batch view show. */
export class ProgressTracker {
  #total = 0;
  #described = 0;
  #skipped = 0;
  #failed = 0;
  #firstStart: number | undefined;
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  update(event: BatchEvent): void {
    if (event.type === 'queued') this.#total = event.total;
    else if (event.type === 'started') this.#firstStart ??= this.#now();
    else if (event.type === 'done') this.#described += 1;
    else if (event.type === 'skipped') this.#skipped += 1;
    else if (event.type === 'failed') this.#failed += 1;
  }

  snapshot(): ProgressSnapshot {
    const finished = this.#described + this.#skipped + this.#failed;
    const remaining = Math.max(0, this.#total - finished);
    const elapsed = this.#firstStart === undefined ? 0 : this.#now() - this.#firstStart;
    const perMinute = this.#described > 0 && elapsed > 0 ? (this.#described * 60_000) / elapsed : 0;
    return {
      total: this.#total,
      described: this.#described,
      skipped: this.#skipped,
      failed: this.#failed,
      remaining,
      perMinute,
      etaMs: perMinute > 0 ? (remaining / perMinute) * 60_000 : undefined,
    };
  }
}
