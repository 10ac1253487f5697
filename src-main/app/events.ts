import type { EventName, EventPayload } from '../api/contract.js';

export type CoreEventListener = <E extends EventName>(name: E, payload: EventPayload<E>) => void;

/** Core-to-renderer events, fanned out to every transport (IPC windows, WebSocket clients). */
export class CoreEvents {
  #listeners = new Set<(name: EventName, payload: unknown) => void>();

  /** Returns the unsubscribe function. */
  subscribe(listener: (name: EventName, payload: unknown) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit<E extends EventName>(name: E, payload: EventPayload<E>): void {
    for (const listener of this.#listeners) {
      try {
        listener(name, payload);
      } catch {
        // A broken transport must not stop the others (or the core).
      }
    }
  }
}
