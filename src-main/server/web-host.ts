import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sirv from 'sirv';
import type { Duplex } from 'node:stream';
import { LlavaDeskError } from '../common/errors.js';
import { reportBug } from '../common/report-bug.js';
import type { ApiResponse, EventName } from '../api/contract.js';
import type { ApiHttp } from './api-http.js';
import { allowedHostHeaders, isLoopbackHost, servedNames } from './loopback.js';
import { SECURITY_HEADERS } from './security-headers.js';
import { createWsApi, type WsApi } from './ws-api.js';

/** The renderer built by `electron-vite build` (same depth from src-main/ and dist/). */
export const DEFAULT_RENDERER_DIR = fileURLToPath(new URL('../../out/renderer/', import.meta.url));

export interface WebHostOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  dataDir: string;
  rendererDir?: string;
  /** Serving beyond this machine must be asked for explicitly (Host is still checked). */
  allowRemote?: boolean;
  /** The API contract to serve over the WebSocket (the app core); absent: static files only. */
  api?: {
    dispatch: (method: unknown, params: unknown) => Promise<ApiResponse>;
    subscribe: (listener: (name: EventName, payload: unknown) => void) => () => void;
  };
  /** The local HTTP API (OpenAI /v1, Ollama /api) on the same origin; absent: not served. */
  httpApi?: ApiHttp;
}

export interface WebHost {
  /** The address to open, with the access token in the fragment (never sent to servers). */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

/** Serves the built renderer over HTTP for web mode (`llava-desk serve`). */
export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  if (!isLoopbackHost(options.host) && options.allowRemote !== true) {
    throw new LlavaDeskError(
      'HOST_NOT_ALLOWED',
      `Refusing to serve on ${options.host}: only loopback addresses (127.0.0.1, ::1, localhost) ` +
        'are allowed unless --allow-remote is given.',
    );
  }
  const rendererDir = options.rendererDir ?? DEFAULT_RENDERER_DIR;
  if (!existsSync(join(rendererDir, 'index.html'))) {
    throw new LlavaDeskError(
      'RENDERER_NOT_BUILT',
      `The user interface is not built (${rendererDir} has no index.html). Run \`npm run build\`.`,
    );
  }

  const token = randomBytes(24).toString('base64url');
  const serveStatic = sirv(rendererDir, { etag: true, single: true, dotfiles: false });
  let allowedHosts = new Set<string>();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // Last resort per request: a failure is logged and answered 500; the server keeps serving.
    try {
      handleRequest(req, res);
    } catch (error) {
      reportBug(`serving ${req.method ?? ''} ${req.url ?? ''}`, error);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Internal error\n');
    }
  });
  // A malformed request or a reset connection is the client's problem, never the server's.
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  function handleRequest(req: IncomingMessage, res: ServerResponse): void {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    if (!allowedHosts.has(hostHeader)) {
      res.writeHead(421, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Host not allowed\n');
      return;
    }
    if (options.httpApi?.handles(req.url ?? '/')) {
      options.httpApi.handle(req, res);
      return;
    }
    // Without the API (`--no-api`) its paths are not the app's pages either.
    if (/^\/(v1|api)(\/|\?|$)/.test(req.url ?? '/')) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Method not allowed\n');
      return;
    }
    serveStatic(req, res, () => {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Not found\n');
    });
  }

  let wsApi: WsApi | undefined;
  if (options.api) {
    wsApi = createWsApi({
      token,
      allowedHosts: () => allowedHosts,
      dispatch: options.api.dispatch,
      subscribe: options.api.subscribe,
    });
    const api = wsApi;
    server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      try {
        api.handleUpgrade(req, socket, head);
      } catch (error) {
        reportBug('opening a WebSocket', error);
        socket.destroy();
      }
    });
  }

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  const { port } = server.address() as AddressInfo;
  // `--allow-remote` widens the names to this machine's own addresses, never to any Host.
  allowedHosts = allowedHostHeaders(
    options.host,
    port,
    options.allowRemote === true ? servedNames(options.host) : [],
  );
  const urlHost = options.host.includes(':') ? `[${options.host}]` : options.host;

  return {
    url: `http://${urlHost}:${port}/#token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolvePromise) => {
        wsApi?.close();
        server.closeAllConnections();
        server.close(() => resolvePromise());
      }),
  };
}
