import { extname, join, resolve } from 'node:path';
import { isInside } from './image-url.js';

// The app's own pages come from `llava-desk://app/...` (a privileged standard scheme) rather
// than file://: a real origin for the CSP and for the IPC sender check, and no access to the
// rest of the disk.

export const APP_SCHEME = 'llava-desk';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export function mimeTypeOf(path: string): string {
  return MIME_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The file of the built renderer that an app URL names, or undefined when the URL is not ours or
 * would leave the renderer folder (`..`, encoded separators, absolute paths).
 */
export function appAssetPath(rendererDir: string, raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.hostname !== APP_HOST) return undefined;
  if (url.username !== '' || url.password !== '' || url.port !== '') return undefined;
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return undefined;
  }
  if (pathname.includes('\\') || pathname.includes('\0')) return undefined;
  const segments = pathname.split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '..' || segment === '.')) return undefined;
  const root = resolve(rendererDir);
  const path = segments.length === 0 ? join(root, 'index.html') : join(root, ...segments);
  return isInside(root, path) && path !== root ? path : undefined;
}

/** Whether a page URL is one of the app's own pages (packaged scheme, or the dev server). */
export function isAppPageUrl(raw: string, devServerUrl?: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.protocol === `${APP_SCHEME}:` && url.hostname === APP_HOST) return true;
  if (devServerUrl === undefined) return false;
  try {
    return url.origin === new URL(devServerUrl).origin;
  } catch {
    return false;
  }
}
