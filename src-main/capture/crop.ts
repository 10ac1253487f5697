import sharp from 'sharp';
import type { Rect } from './geometry.js';

/**
 * Cuts a region (capture pixels, from selectionToCrop) out of an encoded capture and returns it as
 * PNG: lossless, so the model sees exactly what was on the screen.
 */
export async function cropCapture(encoded: Uint8Array, region: Rect): Promise<Uint8Array> {
  const { data } = await sharp(encoded)
    .extract({ left: region.x, top: region.y, width: region.width, height: region.height })
    .png({ compressionLevel: 6 })
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
