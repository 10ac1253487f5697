import type { PreloadBridge } from '../../../src-main/api/contract';
import type { ConnectionState, Transport } from './client';

/** The desktop app: the API through the preload's `window.llavaDesk` (contextBridge). */
export class PreloadTransport implements Transport {
  readonly #bridge: PreloadBridge;

  constructor(bridge: PreloadBridge) {
    this.#bridge = bridge;
  }

  invoke(method: string, params: unknown) {
    return this.#bridge.invoke(method, params);
  }

  subscribe(event: string, listener: (payload: unknown) => void): () => void {
    return this.#bridge.on(event, listener);
  }

  onConnection(listener: (state: ConnectionState) => void): () => void {
    listener('open');
    return () => undefined;
  }
}
