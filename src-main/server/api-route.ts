import type { ServerResponse } from 'node:http';
import type { z } from 'zod';
import type { ApiBackend } from './api-backend.js';
import { badRequest } from './api-errors.js';
import type { ImageFetchLimits } from './api-image-fetch.js';
import type { ApiImages } from './api-images.js';
import type { ApiLimits } from './completion-request.js';

export interface ApiDeps {
  backend: ApiBackend;
  images: ApiImages;
  limits: ApiLimits;
  /** Set when `http(s)` image URLs may be fetched (`--allow-image-fetch`). */
  imageFetch?: ImageFetchLimits | undefined;
}

/** One request to a route of the local API. */
export interface RouteContext {
  /** The parsed JSON body (undefined for GET). */
  body: unknown;
  /** Aborts when the client goes away before the answer is complete. */
  signal: AbortSignal;
  res: ServerResponse;
  deps: ApiDeps;
  /** What a `/*` route matched after its prefix (the id of GET /v1/models/{id}); else ''. */
  rest: string;
}

export type RouteHandler = (ctx: RouteContext) => Promise<void>;

/** `METHOD /path` → handler; `/path/*` matches what follows the prefix too. */
export type RouteTable = Readonly<Record<string, RouteHandler>>;

/** The body checked against a schema; a 400 naming the first problem when it does not fit. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  throw badRequest(
    'invalid_request',
    `Invalid request${path !== '' ? ` at ${path}` : ''}: ${issue?.message ?? 'malformed body'}.`,
    path !== '' ? path : null,
  );
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}
