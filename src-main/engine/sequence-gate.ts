// Admission to the context's sequences: at most one answer per sequence at a time. Interactive
// requests (chat, ask window, API) are admitted before batch items that wait with them, and an
// interactive request that finds every sequence held takes one from a batch item that is writing
// its answer (preempted: its answer ends with PREEMPTED and the batch job describes it again).
import { LlavaDeskError } from '../common/errors.js';
import type { WorkPriority } from './decode-scheduler.js';

/** One admitted answer. */
export interface SequenceHold {
  readonly priority: WorkPriority;
  /** Says which sequence the answer is generating on: from then on a batch hold can be preempted. */
  generating(seqId: number): void;
  release(): void;
}

interface Hold extends SequenceHold {
  seqId?: number;
  preempted: boolean;
}

interface Waiter {
  priority: WorkPriority;
  admit: (hold: Hold) => void;
  refuse: (error: unknown) => void;
}

export class SequenceGate {
  readonly #size: number;
  readonly #preempt: (seqId: number) => boolean;
  readonly #holds = new Set<Hold>();
  readonly #waiters: Waiter[] = [];
  #closed: LlavaDeskError | undefined;

  /** `preempt` ends the answer generating on a sequence (true when there was one). */
  constructor(size: number, preempt: (seqId: number) => boolean) {
    this.#size = size;
    this.#preempt = preempt;
  }

  /** Waits for a sequence (ABORTED when the signal aborts first). */
  enter(priority: WorkPriority, signal?: AbortSignal): Promise<SequenceHold> {
    if (this.#closed) return Promise.reject(this.#closed);
    if (signal?.aborted) {
      return Promise.reject(new LlavaDeskError('ABORTED', 'Stopped before it started.'));
    }
    return new Promise<SequenceHold>((resolve, reject) => {
      const onAbort = (): void => {
        const at = this.#waiters.indexOf(waiter);
        if (at < 0) return;
        this.#waiters.splice(at, 1);
        reject(new LlavaDeskError('ABORTED', 'Stopped before it started.'));
      };
      const waiter: Waiter = {
        priority,
        admit: (hold) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(hold);
        },
        refuse: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const at =
        priority === 'interactive' ? this.#waiters.findIndex((w) => w.priority === 'batch') : -1;
      if (at < 0) this.#waiters.push(waiter);
      else this.#waiters.splice(at, 0, waiter);
      this.#admit();
    });
  }

  /** Refuses every waiting and later request with `error`. */
  close(error: LlavaDeskError): void {
    this.#closed = error;
    for (const waiter of this.#waiters.splice(0)) waiter.refuse(error);
  }

  #admit(): void {
    while (this.#holds.size < this.#size && this.#waiters.length > 0) {
      const waiter = this.#waiters.shift();
      if (waiter) waiter.admit(this.#hold(waiter.priority));
    }
    const interactive = this.#waiters.filter((w) => w.priority === 'interactive').length;
    let preempting = [...this.#holds].filter((h) => h.preempted).length;
    for (const hold of this.#holds) {
      if (preempting >= interactive) break;
      if (hold.priority !== 'batch' || hold.preempted || hold.seqId === undefined) continue;
      if (this.#preempt(hold.seqId)) {
        hold.preempted = true;
        preempting += 1;
      }
    }
  }

  #hold(priority: WorkPriority): Hold {
    const hold: Hold = {
      priority,
      preempted: false,
      generating: (seqId) => {
        hold.seqId = seqId;
        this.#admit();
      },
      release: () => {
        if (!this.#holds.delete(hold)) return;
        this.#admit();
      },
    };
    this.#holds.add(hold);
    return hold;
  }
}
