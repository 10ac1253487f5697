import { readFile } from 'node:fs/promises';
import { sniffFormat } from '../imaging/formats.js';
import { appAssetPath, mimeTypeOf } from './app-url.js';
import { APP_RESPONSE_HEADERS } from './csp.js';
import { imageStorePath, parseImageUrl } from './image-url.js';

// What the two custom protocols answer, as plain Node (a status, headers and bytes): the shell
// wraps it in a web Response. Tested under Node with real files in a temporary folder.

export interface ProtocolAnswer {
  status: number;
  headers: Record<string, string>;
  body?: Uint8Array;
}

const IMAGE_MIME: Readonly<Record<string, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
  bmp: 'image/bmp',
  tiff: 'image/tiff',
  heic: 'image/heic',
  svg: 'image/svg+xml',
};

// Stored images are data, never documents: nothing in them may run, even an SVG opened directly.
const IMAGE_HEADERS = {
  ...APP_RESPONSE_HEADERS,
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox",
  'Cache-Control': 'private, max-age=31536000, immutable',
};

function notFound(): ProtocolAnswer {
  return { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' } };
}

async function readOrUndefined(path: string): Promise<Uint8Array | undefined> {
  try {
    return await readFile(path);
  } catch {
    return undefined;
  }
}

function isReadMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}

export async function answerImageRequest(
  storeDir: string,
  url: string,
  method = 'GET',
): Promise<ProtocolAnswer> {
  if (!isReadMethod(method)) return { status: 405, headers: { Allow: 'GET, HEAD' } };
  const request = parseImageUrl(url);
  const path = request ? imageStorePath(storeDir, request) : undefined;
  const body = path ? await readOrUndefined(path) : undefined;
  if (!body) return notFound();
  const sniffed = sniffFormat(body);
  const mime =
    sniffed?.kind === 'image'
      ? (IMAGE_MIME[sniffed.format] ?? 'application/octet-stream')
      : 'application/octet-stream';
  return { status: 200, headers: { ...IMAGE_HEADERS, 'Content-Type': mime }, body };
}

export interface AppPages {
  rendererDir: string;
  /** CSP of a page by its URL path (the renderer's, or the capture pages'). */
  cspFor(pathname: string): string;
  /** Pages generated in memory (the capture windows), by URL path. */
  generated?: ReadonlyMap<string, string>;
}

export async function answerAppRequest(
  pages: AppPages,
  url: string,
  method = 'GET',
): Promise<ProtocolAnswer> {
  if (!isReadMethod(method)) return { status: 405, headers: { Allow: 'GET, HEAD' } };
  const path = appAssetPath(pages.rendererDir, url);
  if (!path) return notFound();
  const pathname = new URL(url).pathname;
  const generated = pages.generated?.get(pathname);
  const body =
    generated !== undefined ? Buffer.from(generated, 'utf8') : await readOrUndefined(path);
  if (!body) return notFound();
  const type = generated !== undefined ? 'text/html; charset=utf-8' : mimeTypeOf(path);
  const headers: Record<string, string> = { ...APP_RESPONSE_HEADERS, 'Content-Type': type };
  if (type.startsWith('text/html')) headers['Content-Security-Policy'] = pages.cspFor(pathname);
  return { status: 200, headers, body };
}
