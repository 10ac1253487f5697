import { ApiError, badRequest } from './api-errors.js';

/** Limits of fetching `http(s)` image URLs (`llava-desk serve --allow-image-fetch`). */
export interface ImageFetchLimits {
  /** Largest image downloaded, in bytes. */
  maxBytes: number;
  /** Wall-clock limit of one download (redirects included), in milliseconds. */
  timeoutMs: number;
  /** Redirects followed at most. */
  maxRedirects: number;
}

export const DEFAULT_IMAGE_FETCH: Readonly<ImageFetchLimits> = Object.freeze({
  maxBytes: 32 * 1024 * 1024,
  timeoutMs: 15_000,
  maxRedirects: 3,
});

/**
 * Downloads an image URL within the limits: http(s) only (also after redirects), a size cap
 * checked while reading (a lying or missing Content-Length cannot exceed it), a time limit, and
 * the caller's signal (the client went away). Every failure is a 400 that names the URL's host.
 */
export async function fetchImage(
  url: string,
  label: string,
  limits: ImageFetchLimits,
  signal: AbortSignal,
): Promise<Uint8Array> {
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const both = AbortSignal.any([signal, timeout]);
  let target = parseHttpUrl(url, label);
  try {
    for (let hop = 0; ; hop += 1) {
      const response = await fetch(target, {
        redirect: 'manual',
        signal: both,
        headers: { Accept: 'image/*' },
      });
      if (response.status >= 300 && response.status < 400) {
        const location = response.headers.get('location');
        await response.body?.cancel();
        if (location === null || hop >= limits.maxRedirects) {
          throw badRequest(
            'image_fetch_failed',
            `${label}: too many redirects from ${target.host}.`,
          );
        }
        target = parseHttpUrl(new URL(location, target).href, label);
        continue;
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw badRequest(
          'image_fetch_failed',
          `${label}: ${target.host} answered ${response.status} ${response.statusText}.`,
        );
      }
      const declared = Number(response.headers.get('content-length'));
      if (Number.isFinite(declared) && declared > limits.maxBytes) {
        await response.body?.cancel();
        throw tooLarge(label, limits);
      }
      return await readCapped(response, label, limits);
    }
  } catch (error) {
    if (timeout.aborted) {
      throw badRequest(
        'image_fetch_failed',
        `${label}: ${target.host} took longer than ${limits.timeoutMs / 1000} s.`,
      );
    }
    if (error instanceof ApiError) throw error;
    if (signal.aborted) throw error;
    throw badRequest('image_fetch_failed', `${label}: could not download from ${target.host}.`);
  }
}

function parseHttpUrl(url: string, label: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badRequest('invalid_image_url', `${label}: not a valid URL.`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw badRequest('invalid_image_url', `${label}: only http(s) and data URLs are accepted.`);
  }
  return parsed;
}

function tooLarge(label: string, limits: ImageFetchLimits): Error {
  return badRequest(
    'image_too_large',
    `${label}: the image is larger than ${Math.round(limits.maxBytes / 1024 / 1024)} MiB.`,
  );
}

async function readCapped(
  response: Response,
  label: string,
  limits: ImageFetchLimits,
): Promise<Uint8Array> {
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limits.maxBytes) {
      await reader.cancel();
      throw tooLarge(label, limits);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
