import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BodyReader } from './body-reader.js';

export interface HttpGetOptions {
  headers: Record<string, string>;
  /** Sent only while the request stays on this origin (never to a CDN it redirects to). */
  authorization?: { origin: string; value: string };
  signal: AbortSignal;
  /** Socket idle time (no bytes either way) after which the request fails with ETIMEDOUT. */
  idleTimeoutMs: number;
  maxRedirects?: number;
}

export interface HttpGetResult {
  response: IncomingMessage;
  /** Already collecting the body: consume it or call `discard()`. */
  body: BodyReader;
  finalUrl: string;
  /** The hub's `X-Linked-ETag` (the LFS object's sha256), seen on any hop. */
  linkedEtag?: string;
  linkedSize?: number;
}

function header(response: IncomingMessage, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function getOnce(url: URL, options: HttpGetOptions): Promise<IncomingMessage> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.authorization && url.origin === options.authorization.origin) {
    headers.authorization = options.authorization.value;
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: 'GET', headers, signal: options.signal }, resolve);
    req.setTimeout(options.idleTimeoutMs, () => {
      req.destroy(
        Object.assign(new Error('the server stopped sending data'), { code: 'ETIMEDOUT' }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * One GET that follows redirects itself, so the hub's headers on the redirect (the linked ETag
 * with the file's sha256) are kept and the token never leaves the hub's origin.
 */
export async function httpGet(url: string, options: HttpGetOptions): Promise<HttpGetResult> {
  let current = new URL(url);
  let linkedEtag: string | undefined;
  let linkedSize: number | undefined;
  const maxRedirects = options.maxRedirects ?? 10;
  for (let hop = 0; ; hop++) {
    const response = await getOnce(current, options);
    const etag = header(response, 'x-linked-etag');
    if (etag !== undefined) linkedEtag = etag;
    const size = Number(header(response, 'x-linked-size'));
    if (Number.isSafeInteger(size) && size > 0) linkedSize = size;
    const status = response.statusCode ?? 0;
    const location = header(response, 'location');
    if (status >= 300 && status < 400 && location !== undefined) {
      response.resume();
      if (hop >= maxRedirects) throw new Error(`too many redirects from ${url}`);
      current = new URL(location, current);
      continue;
    }
    // Attach before any await so no byte or end-of-body can slip by.
    const body = new BodyReader(response);
    return { response, body, finalUrl: current.toString(), linkedEtag, linkedSize };
  }
}

/** `"<64 hex>"` (possibly weak) from an X-Linked-ETag header, as a lowercase sha256. */
export function sha256FromEtag(etag: string | undefined): string | undefined {
  if (etag === undefined) return undefined;
  const match = /^(?:W\/)?"?([0-9a-fA-F]{64})"?$/.exec(etag.trim());
  return match?.[1]?.toLowerCase();
}

export function responseHeader(response: IncomingMessage, name: string): string | undefined {
  return header(response, name);
}
