import { createHash } from 'node:crypto';
import type { PreparedImage as EngineImage } from '../api/engine.js';
import { prepareForEncoder, type Detail, type EncoderSpec } from '../imaging/index.js';
import { badRequest } from './api-errors.js';
import { fetchImage, type ImageFetchLimits } from './api-image-fetch.js';

/** An image of a request, decoded from its data URL or base64 text (never read from a path). */
export interface ApiImageInput {
  bytes: Uint8Array;
  detail: Detail;
  /** For messages: "image 2 of message 3". */
  label: string;
}

/** An image prepared for the active encoder: its bitmaps and the tokens it costs. */
export interface ApiPreparedImage {
  bitmaps: EngineImage[];
  tokens: number;
  /** How the app planned it: its upright size, the detail and the encoder images it became. */
  plan: { width: number; height: number; detail: Detail; encoderImages: number };
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Bytes of base64 text (standard or URL alphabet, whitespace allowed); a 400 when it is not. */
export function base64Bytes(text: string, label: string): Uint8Array {
  const compact = text.replace(/\s+/g, '');
  if (compact === '' || !BASE64.test(compact) || compact.length % 4 === 1) {
    throw badRequest('invalid_image', `${label}: not base64-encoded image data.`);
  }
  return Buffer.from(
    compact,
    compact.includes('-') || compact.includes('_') ? 'base64url' : 'base64',
  );
}

/**
 * Bytes of an image URL as the OpenAI dialect sends it: a `data:` URL, or an `http(s)` URL when
 * the server was started with image fetching allowed (`fetch` limits given). The server never
 * reads a local file: `file:` URLs and paths are refused.
 */
export async function imageUrlContent(
  url: string,
  label: string,
  fetch: ImageFetchLimits | undefined,
  signal: AbortSignal,
): Promise<Uint8Array> {
  if (fetch && /^https?:/i.test(url.trim())) return fetchImage(url.trim(), label, fetch, signal);
  return imageUrlBytes(url, label);
}

/** Bytes of a `data:` URL; anything else is refused (see imageUrlContent). */
export function imageUrlBytes(url: string, label: string): Uint8Array {
  const trimmed = url.trim();
  if (/^https?:/i.test(trimmed)) {
    throw badRequest(
      'image_url_not_allowed',
      `${label}: this server does not fetch images from the network. Send the image inline as a ` +
        'data URL (data:image/jpeg;base64,...), or start `llava-desk serve` with ' +
        '--allow-image-fetch.',
    );
  }
  const match = /^data:([^,]*),(.*)$/is.exec(trimmed);
  if (!match) {
    throw badRequest(
      'invalid_image_url',
      `${label}: only data URLs (data:image/...;base64,...) are accepted as images.`,
    );
  }
  const meta = (match[1] ?? '').toLowerCase();
  const data = match[2] ?? '';
  if (meta.split(';').includes('base64')) return base64Bytes(data, label);
  try {
    return Buffer.from(decodeURIComponent(data), 'latin1');
  } catch {
    throw badRequest('invalid_image_url', `${label}: the data URL is not valid percent-encoding.`);
  }
}

/** Prepared images kept in memory: a repeated image is not decoded again. */
const CACHE_LIMIT = 32;

/**
 * Prepares request images through the app's imaging pipeline (EXIF orientation, HEIC, AVIF, TIFF,
 * BMP, large images planned into tiles at `high` detail) for the active encoder. The engine's
 * embedding cache, keyed by the prepared pixels, then skips images it has already encoded.
 */
export class ApiImages {
  #cache = new Map<string, Promise<ApiPreparedImage>>();

  prepare(input: ApiImageInput, spec: EncoderSpec): Promise<ApiPreparedImage> {
    const key = createHash('sha256')
      .update(input.bytes)
      .update(`\0${input.detail}\0${JSON.stringify(spec)}`)
      .digest('hex');
    const cached = this.#cache.get(key);
    if (cached) {
      this.#cache.delete(key);
      this.#cache.set(key, cached);
      return cached;
    }
    const prepared = (async (): Promise<ApiPreparedImage> => {
      const image = await prepareForEncoder(
        { bytes: input.bytes, name: input.label },
        { encoder: spec, detail: input.detail, thumbnail: false },
      );
      return {
        tokens: image.tokens,
        plan: {
          width: image.width,
          height: image.height,
          detail: input.detail,
          encoderImages: image.bitmaps.length,
        },
        bitmaps: image.bitmaps.map((bitmap) => ({
          id: bitmap.pixelHash,
          width: bitmap.width,
          height: bitmap.height,
          rgb: bitmap.data,
        })),
      };
    })();
    this.#cache.set(key, prepared);
    prepared.catch(() => this.#cache.delete(key));
    while (this.#cache.size > CACHE_LIMIT) {
      const oldest = this.#cache.keys().next().value;
      if (oldest === undefined) break;
      this.#cache.delete(oldest);
    }
    return prepared;
  }
}
