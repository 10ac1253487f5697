import { emptyKvState, type KvState } from './kv-plan.js';

export interface SequenceSlot {
  seqId: number;
  sessionId: string | undefined;
  kv: KvState;
  lastUsed: number;
}

/**
 * Sessions share one context through its sequences. A session keeps its sequence (and so its KV
 * cache) until more sessions than sequences are active; then the least recently used one gives
 * its sequence up and re-evaluates its history when it asks again.
 */
export class SequencePool {
  readonly #slots: SequenceSlot[];
  #clock = 0;

  constructor(size: number) {
    this.#slots = Array.from({ length: size }, (_, seqId) => ({
      seqId,
      sessionId: undefined,
      kv: emptyKvState(),
      lastUsed: 0,
    }));
  }

  /** The session's slot, taking a free or the least recently used one. `evicted` says whose. */
  acquire(sessionId: string): { slot: SequenceSlot; evicted: string | undefined } {
    this.#clock += 1;
    const own = this.#slots.find((s) => s.sessionId === sessionId);
    if (own) {
      own.lastUsed = this.#clock;
      return { slot: own, evicted: undefined };
    }
    const slot = this.#slots.reduce((oldest, s) => {
      if (oldest.sessionId !== undefined && s.sessionId === undefined) return s;
      if ((oldest.sessionId === undefined) !== (s.sessionId === undefined)) return oldest;
      return s.lastUsed < oldest.lastUsed ? s : oldest;
    });
    const evicted = slot.sessionId;
    slot.sessionId = sessionId;
    slot.kv = emptyKvState();
    slot.lastUsed = this.#clock;
    return { slot, evicted };
  }

  release(sessionId: string): SequenceSlot | undefined {
    const slot = this.#slots.find((s) => s.sessionId === sessionId);
    if (!slot) return undefined;
    slot.sessionId = undefined;
    slot.kv = emptyKvState();
    return slot;
  }
}
