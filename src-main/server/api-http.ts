import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { reportBug } from '../common/report-bug.js';
import type { ApiBackend } from './api-backend.js';
import { ApiError, ollamaErrorBody, openAiErrorBody, toApiError } from './api-errors.js';
import type { ImageFetchLimits } from './api-image-fetch.js';
import { ApiImages } from './api-images.js';
import { sendJson, type RouteHandler, type RouteTable } from './api-route.js';
import { DEFAULT_API_LIMITS, type ApiLimits } from './completion-request.js';
import { isLoopbackHost } from './loopback.js';
import { OLLAMA_ROUTES } from './ollama-routes.js';
import { OPENAI_ROUTES } from './openai-routes.js';

export interface ApiHttpOptions {
  backend: ApiBackend;
  /**
   * Browser origins allowed to call the API (CORS). A request carrying any other `Origin` is
   * refused with 403: a web page the user visits cannot drive the API. Default: none.
   */
  corsOrigins?: readonly string[];
  /**
   * The key a client must send as `Authorization: Bearer <key>` when it connects from another
   * machine (`--allow-remote`). Absent: no key (loopback-only servers).
   */
  apiKey?: string;
  limits?: Partial<ApiLimits>;
  /** Fetch `http(s)` image URLs within these limits; absent: such URLs are refused (400). */
  imageFetch?: ImageFetchLimits;
}

export interface ApiHttp {
  /** Whether the path is the API's (/v1/..., /api/...). */
  handles(path: string): boolean;
  /** Answers an API request; never throws (the Host header is checked by the caller). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Requests being answered now. */
  readonly pending: number;
}

type Dialect = 'openai' | 'ollama';

const dialectOf = (path: string): Dialect | undefined =>
  path === '/v1' || path.startsWith('/v1/')
    ? 'openai'
    : path === '/api' || path.startsWith('/api/')
      ? 'ollama'
      : undefined;

/**
 * The local HTTP API in two dialects, OpenAI's (/v1) and Ollama's (/api), answered by the app's
 * engine. Shared by `llava-desk serve` (on the web app's origin) and the desktop app's
 * "Local API server" (its own loopback port).
 */
export function createApiHttp(options: ApiHttpOptions): ApiHttp {
  const limits: ApiLimits = { ...DEFAULT_API_LIMITS, ...options.limits };
  const deps = {
    backend: options.backend,
    images: new ApiImages(),
    limits,
    imageFetch: options.imageFetch,
  };
  const origins = new Set((options.corsOrigins ?? []).map(normaliseOrigin));
  const key = options.apiKey !== undefined ? Buffer.from(options.apiKey) : undefined;
  let pending = 0;

  function fail(res: ServerResponse, dialect: Dialect, error: ApiError): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    if (error.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    if (error.status === 503) res.setHeader('Retry-After', '2');
    sendJson(
      res,
      error.status,
      dialect === 'openai' ? openAiErrorBody(error) : ollamaErrorBody(error),
    );
  }

  function authorised(req: IncomingMessage): boolean {
    if (!key) return true;
    // Programs on this machine need no key, as with a loopback-only server.
    if (isLoopbackHost(req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '')) return true;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    const given = Buffer.from(match?.[1] ?? '');
    return given.length === key.length && timingSafeEqual(given, key);
  }

  async function serve(req: IncomingMessage, res: ServerResponse, dialect: Dialect): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (!origins.has(normaliseOrigin(origin))) {
        throw new ApiError(
          403,
          'permission_error',
          'origin_not_allowed',
          `Requests from web pages (Origin ${origin}) are refused. Allow an origin with ` +
            '--api-cors-origin.',
        );
      }
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
        'Access-Control-Allow-Headers':
          req.headers['access-control-request-headers'] ?? 'authorization, content-type',
        'Access-Control-Max-Age': '600',
      });
      res.end();
      return;
    }
    if (!authorised(req)) {
      throw new ApiError(
        401,
        'authentication_error',
        'invalid_api_key',
        'This server needs its API key: send `Authorization: Bearer <key>` (printed at start).',
      );
    }
    const { handler, rest } = route(
      dialect === 'openai' ? OPENAI_ROUTES : OLLAMA_ROUTES,
      req.method ?? 'GET',
      path,
    );
    if (!handler) {
      throw new ApiError(404, 'not_found_error', 'not_found', `No route ${req.method} ${path}.`);
    }
    if (pending >= limits.maxPending) {
      throw new ApiError(
        429,
        'rate_limit_error',
        'too_many_requests',
        `${pending} requests are already being answered; try again shortly.`,
      );
    }
    pending += 1;
    const controller = new AbortController();
    // The client went away before the answer was complete: stop generating for it.
    const onClose = (): void => {
      if (!res.writableFinished) controller.abort();
    };
    res.once('close', onClose);
    try {
      const body = req.method === 'POST' ? await readJson(req, limits.maxBodyBytes) : undefined;
      await handler({ body, signal: controller.signal, res, deps, rest });
    } finally {
      pending -= 1;
      res.off('close', onClose);
    }
  }

  return {
    handles: (path) => dialectOf(path.split('?')[0] ?? '/') !== undefined,
    get pending() {
      return pending;
    },
    handle(req, res) {
      const dialect = dialectOf((req.url ?? '/').split('?')[0] ?? '/') ?? 'openai';
      serve(req, res, dialect).catch((error: unknown) => {
        const apiError = toApiError(error);
        // A request whose client left needs no answer (its connection is gone) and is no bug.
        if (apiError.code === 'aborted' || res.destroyed) {
          if (!res.writableEnded) res.end();
          return;
        }
        if (apiError.status >= 500 && apiError.status !== 503) {
          reportBug(`API ${req.method ?? ''} ${req.url ?? ''}`, error);
        }
        if (apiError.status === 413) res.setHeader('Connection', 'close');
        fail(res, dialect, apiError);
      });
    },
  };
}

function route(
  table: RouteTable,
  method: string,
  path: string,
): { handler: RouteHandler | undefined; rest: string } {
  const exact = table[`${method} ${path}`];
  if (exact) return { handler: exact, rest: '' };
  const key = `${method} ${path}`;
  for (const [pattern, handler] of Object.entries(table)) {
    if (!pattern.endsWith('/*')) continue;
    const prefix = pattern.slice(0, -1);
    if (key.startsWith(prefix) && key.length > prefix.length) {
      return { handler, rest: key.slice(prefix.length) };
    }
  }
  return { handler: undefined, rest: '' };
}

function normaliseOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, '').toLowerCase();
}

/** The request's JSON body, at most `limit` bytes (a larger one is refused with 413). */
async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const tooLarge = (): ApiError =>
    new ApiError(
      413,
      'request_too_large',
      'request_too_large',
      `The request body is larger than ${Math.round(limit / 1024 / 1024)} MiB.`,
    );
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw tooLarge();
  }
  // Read with listeners, not an async iterator: leaving one early destroys the socket, and the
  // 413 could not be sent. What is past the limit is drained and dropped.
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        reject(tooLarge());
      } else {
        chunks.push(chunk);
      }
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
    req.once('aborted', () =>
      reject(new ApiError(499, 'invalid_request_error', 'aborted', 'The client went away.')),
    );
  });
  const text = body.toString('utf8');
  if (text.trim() === '') {
    throw new ApiError(400, 'invalid_request_error', 'invalid_json', 'The request has no body.');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError(400, 'invalid_request_error', 'invalid_json', 'The body is not valid JSON.');
  }
}
