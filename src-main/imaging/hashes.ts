import { createHash, webcrypto } from 'node:crypto';
import type { RgbBitmap } from './size.js';

/** sha256 of the original file's bytes, hex: the key of the content-addressed image store. */
export function sourceSha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** `sourceSha256` computed on the thread pool, so that it overlaps decoding (also off-thread). */
export async function sourceSha256Async(bytes: Uint8Array): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', bytes)).toString('hex');
}

/**
 * sha256 of prepared pixels with their layout (`rgb8 WxH`), hex: the key of the engine's
 * embedding cache. The same pixels at another size are another key.
 */
export function pixelHash(bitmap: RgbBitmap): string {
  return createHash('sha256')
    .update(`rgb8 ${bitmap.width}x${bitmap.height}\n`)
    .update(bitmap.data)
    .digest('hex');
}
