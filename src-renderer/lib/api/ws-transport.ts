import type {
  ApiResponse,
  WireClientMessage,
  WireServerMessage,
} from '../../../src-main/api/contract';
import type { ConnectionState, Transport } from './client';
import {
  WS_PATH,
  WS_SUBPROTOCOL,
  WS_TOKEN_SUBPROTOCOL_PREFIX,
} from '../../../src-main/shared/web-socket';
import { decodeWire, encodeWire } from './wire';

interface Pending {
  resolve: (response: ApiResponse) => void;
}

/**
 * Web mode: the API over a WebSocket to the page's own origin, authorised by the access token
 * from the URL fragment (offered as a subprotocol, never in a URL). Reconnects with backoff;
 * calls made while disconnected wait for the connection.
 */
export class WebSocketTransport implements Transport {
  readonly #token: string;
  #socket: WebSocket | undefined;
  #state: ConnectionState = 'connecting';
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #queue: string[] = [];
  #listeners = new Map<string, Set<(payload: unknown) => void>>();
  #connectionListeners = new Set<(state: ConnectionState) => void>();
  #retries = 0;

  constructor(token: string) {
    this.#token = token;
    this.#connect();
  }

  invoke(method: string, params: unknown): Promise<ApiResponse> {
    const id = this.#nextId++;
    const message: WireClientMessage = { type: 'call', id, method, params };
    return new Promise((resolve) => {
      this.#pending.set(id, { resolve });
      const text = encodeWire(message);
      if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(text);
      else this.#queue.push(text);
    });
  }

  subscribe(event: string, listener: (payload: unknown) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  onConnection(listener: (state: ConnectionState) => void): () => void {
    this.#connectionListeners.add(listener);
    listener(this.#state);
    return () => this.#connectionListeners.delete(listener);
  }

  #setState(state: ConnectionState): void {
    if (state === this.#state) return;
    this.#state = state;
    for (const listener of this.#connectionListeners) listener(state);
  }

  #connect(): void {
    const url = new URL(WS_PATH, window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.hash = '';
    const socket = new WebSocket(url, [
      WS_SUBPROTOCOL,
      `${WS_TOKEN_SUBPROTOCOL_PREFIX}${this.#token}`,
    ]);
    this.#socket = socket;
    socket.addEventListener('open', () => {
      this.#retries = 0;
      this.#setState('open');
      for (const text of this.#queue.splice(0)) socket.send(text);
    });
    socket.addEventListener('message', (event: MessageEvent) => {
      if (typeof event.data !== 'string') return;
      const message = decodeWire(event.data) as WireServerMessage;
      if (message.type === 'result') {
        // id null: the server could not read a message as a call (never one this page sends).
        if (message.id === null) return;
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        const { type: _type, id: _id, ...response } = message;
        pending?.resolve(response as ApiResponse);
      } else if (message.type === 'event') {
        for (const listener of this.#listeners.get(message.name) ?? []) listener(message.payload);
      }
    });
    socket.addEventListener('close', () => {
      if (this.#socket !== socket) return;
      this.#setState('closed');
      // Calls in flight are lost with the connection; say so rather than hang.
      for (const [id, pending] of this.#pending) {
        pending.resolve({
          ok: false,
          error: { code: 'INTERNAL', message: 'The connection to llava-desk was lost.' },
        });
        this.#pending.delete(id);
      }
      const delay = Math.min(500 * 2 ** this.#retries, 10_000);
      this.#retries += 1;
      setTimeout(() => {
        this.#setState('connecting');
        this.#connect();
      }, delay);
    });
  }
}
