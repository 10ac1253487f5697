import { isAbsolute, join, relative, resolve } from 'node:path';

// Stored images by URL, `llava-image://<sha256>` (the original) and `llava-image://<sha256>/thumb`,
// instead of file:// URLs: the page never learns a path, and the handler can only ever reach files
// inside the image store. The capture ask window shows its crop this way; the main window shows
// thumbnails fetched with `images.thumbnail` through Blob URLs instead.

export const IMAGE_SCHEME = 'llava-image';

export type ImageVariant = 'original' | 'thumb';

export interface ImageRequest {
  id: string;
  variant: ImageVariant;
}

const ID_PATTERN = /^[0-9a-f]{64}$/;

export function imageUrl(id: string, variant: ImageVariant = 'original'): string {
  if (!ID_PATTERN.test(id)) throw new Error(`not an image id: ${id}`);
  return `${IMAGE_SCHEME}://${id}${variant === 'thumb' ? '/thumb' : ''}`;
}

/**
 * Reads a request URL; undefined for anything but exactly `llava-image://<sha256>[/thumb]`
 * (no user, port, query, fragment, extra or encoded path segments).
 */
export function parseImageUrl(raw: string): ImageRequest | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (url.protocol !== `${IMAGE_SCHEME}:`) return undefined;
  if (url.username !== '' || url.password !== '' || url.port !== '') return undefined;
  if (url.search !== '' || url.hash !== '') return undefined;
  const id = url.hostname;
  if (!ID_PATTERN.test(id)) return undefined;
  if (url.pathname === '' || url.pathname === '/') return { id, variant: 'original' };
  if (url.pathname === '/thumb') return { id, variant: 'thumb' };
  return undefined;
}

/** Layout of the image store (chats/image-store.ts): `<dir>/<id[0..2]>/<id>[.thumb]`. */
export function imageStorePath(storeDir: string, request: ImageRequest): string | undefined {
  if (!ID_PATTERN.test(request.id)) return undefined;
  const name = request.variant === 'thumb' ? `${request.id}.thumb` : request.id;
  const root = resolve(storeDir);
  const path = join(root, request.id.slice(0, 2), name);
  return isInside(root, path) ? path : undefined;
}

/** True when `path` is `root` itself or below it (after resolving `..`). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(resolve(root), resolve(path));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}
