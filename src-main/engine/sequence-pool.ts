import { LlavaDeskError } from '../common/errors.js';
import { emptyKvState, planContinuation, type KvState } from './kv-plan.js';

export interface SequenceSlot {
  seqId: number;
  sessionId: string | undefined;
  kv: KvState;
  lastUsed: number;
  /** An answer is using the sequence now: it is not given to another session meanwhile. */
  busy: boolean;
}

/** Where a session's next evaluation starts from. */
export interface SlotAssignment {
  slot: SequenceSlot;
  /** Another sequence whose cache starts like this session's prompt: copy its first tokens. */
  donor?: { seqId: number; kv: KvState };
}

/**
 * Sessions share one context through its sequences. A session keeps its sequence (and so its KV
 * cache) until more sessions than sequences are active; then the least recently used one gives
 * its sequence up. A session that gets a sequence starts from the longest prompt prefix any
 * sequence already holds (same system prompt and image: a re-ask costs only the new question).
 * A sequence in use by an answer (`busy`) is never taken from its session.
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
      busy: false,
    }));
  }

  acquire(sessionId: string, rendered: string): SlotAssignment {
    this.#clock += 1;
    const own = this.#slots.find((s) => s.sessionId === sessionId);
    if (own) {
      own.lastUsed = this.#clock;
      return { slot: own };
    }
    const free = this.#slots.filter((s) => !s.busy);
    if (free.length === 0) {
      // SequenceGate admits at most as many answers as there are sequences.
      throw new LlavaDeskError('CONTEXT_BUSY', 'Every sequence is answering; none is free.');
    }
    const slot = free.reduce((best, s) => {
      if (best.sessionId !== undefined && s.sessionId === undefined) return s;
      if ((best.sessionId === undefined) !== (s.sessionId === undefined)) return best;
      return s.lastUsed < best.lastUsed ? s : best;
    });
    const donor = this.#bestDonor(rendered);
    slot.sessionId = sessionId;
    slot.lastUsed = this.#clock;
    if (!donor || donor === slot) return { slot };
    return { slot, donor: { seqId: donor.seqId, kv: donor.kv } };
  }

  release(sessionId: string): SequenceSlot | undefined {
    const slot = this.#slots.find((s) => s.sessionId === sessionId);
    if (!slot) return undefined;
    slot.sessionId = undefined;
    return slot;
  }

  /** Forgets a sequence's content (its cache was cleared or is no longer trusted). */
  reset(slot: SequenceSlot): void {
    slot.kv = emptyKvState();
  }

  #bestDonor(rendered: string): SequenceSlot | undefined {
    let best: SequenceSlot | undefined;
    let bestTokens = 0;
    for (const s of this.#slots) {
      const reusable = planContinuation(s.kv, rendered).keep.nPast;
      if (reusable > bestTokens) {
        best = s;
        bestTokens = reusable;
      }
    }
    return best;
  }
}
