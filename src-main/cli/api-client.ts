import WebSocket from 'ws';
import {
  type MethodName,
  type MethodParams,
  type MethodResult,
  type WireServerMessage,
} from '../api/contract.js';
import { isErrorCode } from '../api/errors.js';
import { LlavaDeskError } from '../common/errors.js';
import { findServer, type Discovery } from '../server/discovery.js';
import { decodeWire, encodeWire } from '../server/wire-codec.js';
import { WS_PATH, WS_SUBPROTOCOL, WS_TOKEN_SUBPROTOCOL_PREFIX } from '../shared/web-socket.js';

/**
 * The API contract of a running llava-desk server, over its WebSocket, as the CLI uses it when it
 * attaches: the token from the discovery file as the subprotocol, the server's own origin.
 */
export class ApiClient {
  readonly #ws: WebSocket;
  #nextId = 1;
  readonly #pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  readonly #listeners = new Set<(name: string, payload: unknown) => void>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data: WebSocket.RawData) => this.#receive(data));
    ws.on('close', () => {
      const gone = new LlavaDeskError(
        'ENGINE_CRASHED',
        'The llava-desk server closed the connection before answering.',
      );
      for (const { reject } of this.#pending.values()) reject(gone);
      this.#pending.clear();
    });
    ws.on('error', () => undefined);
  }

  static async connect(server: Pick<Discovery, 'host' | 'port' | 'token'>): Promise<ApiClient> {
    const host = server.host.includes(':') ? `[${server.host}]` : server.host;
    const origin = `http://${host}:${server.port}`;
    const ws = new WebSocket(
      `ws://${host}:${server.port}${WS_PATH}`,
      [WS_SUBPROTOCOL, `${WS_TOKEN_SUBPROTOCOL_PREFIX}${server.token}`],
      { origin, handshakeTimeout: 5000 },
    );
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (error) =>
        reject(
          new LlavaDeskError(
            'ENGINE_NOT_LOADED',
            `Could not attach to ${origin}: ${error.message}`,
          ),
        ),
      );
    });
    return new ApiClient(ws);
  }

  /** Calls a method; rejects with the server's typed error. */
  call<M extends MethodName>(method: M, params: MethodParams<M>): Promise<MethodResult<M>> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#ws.send(encodeWire({ type: 'call', id, method, params }));
    });
  }

  onEvent(listener: (name: string, payload: unknown) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#ws.close();
  }

  #receive(data: WebSocket.RawData): void {
    const message = decodeWire(String(data)) as WireServerMessage;
    if (message.type === 'event') {
      for (const listener of this.#listeners) listener(message.name, message.payload);
      return;
    }
    if (message.id === null) return;
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    if (message.ok) pending.resolve(message.value);
    else {
      const code = isErrorCode(message.error.code) ? message.error.code : 'INTERNAL';
      pending.reject(new LlavaDeskError(code, message.error.message));
    }
  }
}

/**
 * The running llava-desk server of a data folder, connected, or undefined when none runs (a stale
 * discovery file is removed) or it cannot be reached: the caller then runs standalone. `verbose`
 * gets one line saying which.
 */
export async function attachToServer(
  dataDir: string,
  verbose: (line: string) => void,
): Promise<ApiClient | undefined> {
  const outcome = await findServer(dataDir);
  if (outcome.stale !== undefined) verbose(`removed a stale discovery file (${outcome.stale})`);
  const server = outcome.found;
  if (!server) return undefined;
  try {
    const client = await ApiClient.connect(server);
    verbose(`attached to llava-desk at ${server.host}:${server.port} (pid ${server.pid})`);
    return client;
  } catch (error) {
    verbose(`${(error as Error).message}; running standalone`);
    return undefined;
  }
}
