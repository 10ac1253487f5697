import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Settings } from '../api/contract.js';
import { LlavaDeskError } from '../common/errors.js';
import { reportBug } from '../common/report-bug.js';
import type { ApiBackend } from './api-backend.js';
import { createApiHttp, type ApiHttp } from './api-http.js';
import { allowedHostHeaders } from './loopback.js';
import { SECURITY_HEADERS } from './security-headers.js';

const HOST = '127.0.0.1';

/** A running API server of its own (the desktop app's "Local API server"). */
export interface ApiServer {
  /** http://127.0.0.1:<port> */
  origin: string;
  port: number;
  close(): Promise<void>;
}

/**
 * The local HTTP API alone on a loopback port: the same handler as `llava-desk serve` mounts on
 * the web app's origin, with the same Host check (DNS rebinding is answered 421) and headers.
 * Port 0 picks a free one. A taken port is refused with a message that says so.
 */
export async function startApiServer(options: {
  backend: ApiBackend;
  port: number;
  corsOrigins?: readonly string[];
}): Promise<ApiServer> {
  const api: ApiHttp = createApiHttp({
    backend: options.backend,
    ...(options.corsOrigins ? { corsOrigins: options.corsOrigins } : {}),
  });
  let allowedHosts = new Set<string>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    try {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
      if (!allowedHosts.has((req.headers.host ?? '').toLowerCase())) {
        res.writeHead(421, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('Host not allowed\n');
        return;
      }
      if (!api.handles(req.url ?? '/')) {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('llava-desk local API: see /v1/models (OpenAI) or /api/tags (Ollama)\n');
        return;
      }
      api.handle(req, res);
    } catch (error) {
      reportBug(`local API ${req.method ?? ''} ${req.url ?? ''}`, error);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Internal error\n');
    }
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE' || error.code === 'EACCES'
          ? new LlavaDeskError(
              'INVALID_ARGUMENT',
              `The local API cannot listen on port ${options.port}: ` +
                (error.code === 'EADDRINUSE'
                  ? 'another program uses it. Choose another port.'
                  : 'this system does not allow it. Choose a port above 1024.'),
            )
          : error,
      );
    });
    server.listen(options.port, HOST, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  allowedHosts = allowedHostHeaders(HOST, port);
  return {
    origin: `http://${HOST}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The desktop's "Local API server" setting made real: started, moved to another port or stopped
 * when the settings change (a port that cannot be had refuses the change), stopped on quit.
 */
export class LocalApiServer {
  readonly #backend: ApiBackend;
  #running: ApiServer | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(backend: ApiBackend) {
    this.#backend = backend;
  }

  /** The origin it serves on now, if it runs. */
  get origin(): string | undefined {
    return this.#running?.origin;
  }

  apply(settings: Pick<Settings, 'localApi' | 'localApiPort'>): Promise<void> {
    const run = async (): Promise<void> => {
      const want = settings.localApi ? settings.localApiPort : undefined;
      if (this.#running && this.#running.port === want) return;
      if (want === undefined) {
        await this.#stop();
        return;
      }
      // Start the new one first: when its port is taken, the old one keeps serving.
      const next = await startApiServer({ backend: this.#backend, port: want });
      await this.#stop();
      this.#running = next;
    };
    const done = this.#queue.then(run, run);
    this.#queue = done.catch(() => undefined);
    return done;
  }

  close(): Promise<void> {
    return this.apply({ localApi: false, localApiPort: 0 });
  }

  async #stop(): Promise<void> {
    const running = this.#running;
    this.#running = undefined;
    await running?.close();
  }
}
