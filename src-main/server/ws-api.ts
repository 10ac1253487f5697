import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  API_EVENTS,
  type ApiResponse,
  type EventName,
  type WireServerMessage,
} from '../api/contract.js';
import { serializeError } from '../common/errors.js';
import { WS_PATH, WS_SUBPROTOCOL, WS_TOKEN_SUBPROTOCOL_PREFIX } from '../shared/web-socket.js';
import { reportBug } from '../common/report-bug.js';
import { decodeClientFrame, FrameError, MAX_FRAME_BYTES } from './client-frames.js';
import { encodeWire } from './wire-codec.js';

export interface WsApiOptions {
  token: string;
  /** Host header values that reach this server (its own addresses); others are refused. */
  allowedHosts: () => ReadonlySet<string>;
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
    maxPayload: MAX_FRAME_BYTES,
    handleProtocols: (protocols) => (protocols.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
  });
  const known = new Set<string>(API_EVENTS);

  server.on('connection', (ws: WebSocket) => {
    const send = (message: WireServerMessage): void => {
      if (ws.readyState !== ws.OPEN) return;
      try {
        ws.send(encodeWire(message));
      } catch (error) {
        reportBug('sending a WebSocket message', error);
      }
    };
    const refuseFrame = (error: unknown): void => {
      const id = error instanceof FrameError ? error.callId : null;
      if (!(error instanceof FrameError)) reportBug('reading a WebSocket message', error);
      send({ type: 'result', id, ok: false, error: serializeError(error) });
    };
    const unsubscribe = options.subscribe((name, payload) => {
      if (known.has(name)) send({ type: 'event', name, payload });
    });
    ws.on('close', unsubscribe);
    ws.on('error', unsubscribe);
    // Last resort per message: whatever a frame holds, it is answered and the server keeps going.
    ws.on('message', (data, isBinary) => {
      try {
        if (isBinary) {
          throw new FrameError('INVALID_ARGUMENT', 'Binary messages are not part of the API.');
        }
        const call = decodeClientFrame(asBuffer(data));
        options
          .dispatch(call.method, call.params)
          .then(
            (response) => send({ type: 'result', id: call.id, ...response }),
            (error: unknown) => {
              reportBug(`the ${call.method} call`, error);
              send({
                type: 'result',
                id: call.id,
                ok: false,
                error: { code: 'INTERNAL', message: 'llava-desk failed to answer this request.' },
              });
            },
          )
          .catch((error: unknown) => reportBug('answering a WebSocket call', error));
      } catch (error) {
        refuseFrame(error);
      }
    });
  });

  return {
    handleUpgrade(req, socket, head) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== WS_PATH) return refuse(socket, 404, 'Not Found');
      const host = (req.headers.host ?? '').toLowerCase();
      if (!options.allowedHosts().has(host)) {
        return refuse(socket, 421, 'Misdirected Request');
      }
      const origin = req.headers.origin;
      if (origin === undefined || origin.toLowerCase() !== `http://${host}`) {
        return refuse(socket, 403, 'Forbidden');
      }
      const offered = (req.headers['sec-websocket-protocol'] ?? '')
        .split(',')
        .map((p) => p.trim())
        .find((p) => p.startsWith(WS_TOKEN_SUBPROTOCOL_PREFIX));
      const token = offered?.slice(WS_TOKEN_SUBPROTOCOL_PREFIX.length) ?? '';
      if (!sameToken(token, options.token)) return refuse(socket, 401, 'Unauthorized');
      server.handleUpgrade(req, socket, head, (ws) => server.emit('connection', ws, req));
    },
    close() {
      for (const client of server.clients) client.terminate();
      server.close();
    },
  };
}

function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}
