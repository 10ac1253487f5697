import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  API_EVENTS,
  WS_PATH,
  WS_PROTOCOL,
  WS_TOKEN_PROTOCOL_PREFIX,
  type ApiResponse,
  type EventName,
  type WireServerMessage,
} from '../api/contract.js';
import { decodeWire, encodeWire } from './wire-codec.js';

/** Images travel base64 inside JSON: room for the 256 MiB image limit and some. */
const MAX_MESSAGE_BYTES = 400 * 1024 * 1024;

export interface WsApiOptions {
  token: string;
  /** Host header values that reach this server (its own addresses); others are refused. */
  allowedHosts: () => ReadonlySet<string>;
  /** Accept any Host/Origin (`--allow-remote`); the token is still required. */
  allowRemote: boolean;
  dispatch: (method: unknown, params: unknown) => Promise<ApiResponse>;
  subscribe: (listener: (name: EventName, payload: unknown) => void) => () => void;
}

export interface WsApi {
  /** Handles an HTTP upgrade; refuses anything but an authorised same-origin WebSocket. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): void;
}

function sameToken(offered: string, expected: string): boolean {
  const a = Buffer.from(offered);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(reason) + 1}\r\n\r\n${reason}\n`,
  );
}

/**
 * The API contract over a WebSocket on the web host's own origin. A connection needs the access
 * token (offered as the subprotocol `token.<token>`, so it never appears in a URL or a log), a
 * Host header naming this server and an Origin that is this server's (DNS rebinding and other
 * sites' pages are refused).
 */
export function createWsApi(options: WsApiOptions): WsApi {
  const server = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });
  const known = new Set<string>(API_EVENTS);

  server.on('connection', (ws: WebSocket) => {
    const send = (message: WireServerMessage): void => {
      if (ws.readyState === ws.OPEN) ws.send(encodeWire(message));
    };
    const unsubscribe = options.subscribe((name, payload) => {
      if (known.has(name)) send({ type: 'event', name, payload });
    });
    ws.on('close', unsubscribe);
    ws.on('error', unsubscribe);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let message: unknown;
      try {
        message = decodeWire(data.toString());
      } catch {
        return;
      }
      const call = message as { type?: unknown; id?: unknown; method?: unknown; params?: unknown };
      if (call.type !== 'call' || typeof call.id !== 'number') return;
      const id = call.id;
      void options.dispatch(call.method, call.params).then((response) => {
        send({ type: 'result', id, ...response });
      });
    });
  });

  return {
    handleUpgrade(req, socket, head) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== WS_PATH) return refuse(socket, 404, 'Not Found');
      const host = (req.headers.host ?? '').toLowerCase();
      if (!options.allowRemote && !options.allowedHosts().has(host)) {
        return refuse(socket, 421, 'Misdirected Request');
      }
      const origin = req.headers.origin;
      if (origin === undefined || origin.toLowerCase() !== `http://${host}`) {
        return refuse(socket, 403, 'Forbidden');
      }
      const offered = (req.headers['sec-websocket-protocol'] ?? '')
        .split(',')
        .map((p) => p.trim())
        .find((p) => p.startsWith(WS_TOKEN_PROTOCOL_PREFIX));
      const token = offered?.slice(WS_TOKEN_PROTOCOL_PREFIX.length) ?? '';
      if (!sameToken(token, options.token)) return refuse(socket, 401, 'Unauthorized');
      server.handleUpgrade(req, socket, head, (ws) => server.emit('connection', ws, req));
    },
    close() {
      for (const client of server.clients) client.terminate();
      server.close();
    },
  };
}
