// A request's images as native bitmaps: the pixel checks (missing pixels are
// ENGINE_IMAGES_NEEDED, a wrong size INVALID_ARGUMENT) and the bitmaps' disposal once used.
import type { RequestImage } from '../api/engine.js';
import { LlavaDeskError } from '../common/errors.js';
import type { NativeBitmap, NativeMtmd } from './native/binding.js';

/** Refuses images sent without pixels where they must be evaluated (ENGINE_IMAGES_NEEDED). */
export function requirePixels(images: readonly RequestImage[]): void {
  const missing = images.filter((image) => !image.rgb).map((image) => image.id);
  if (missing.length > 0) throw pixelsNeeded(missing);
}

/**
 * Runs `use` with the images as bitmaps and disposes them afterwards, also when making one of
 * them or `use` throws.
 */
export async function withBitmaps<T>(
  mtmd: NativeMtmd,
  images: readonly RequestImage[],
  use: (bitmaps: NativeBitmap[]) => Promise<T>,
): Promise<T> {
  const bitmaps: NativeBitmap[] = [];
  try {
    for (const image of images) bitmaps.push(createBitmap(mtmd, image));
    return await use(bitmaps);
  } finally {
    for (const bitmap of bitmaps) bitmap.dispose();
  }
}

function createBitmap(mtmd: NativeMtmd, image: RequestImage): NativeBitmap {
  const rgb = image.rgb;
  if (!rgb) throw pixelsNeeded([image.id]);
  if (rgb.length !== image.width * image.height * 3) {
    throw new LlavaDeskError(
      'INVALID_ARGUMENT',
      `Image ${image.id}: ${rgb.length} bytes is not ${image.width}x${image.height} RGB.`,
    );
  }
  return mtmd.createBitmap(image.width, image.height, rgb, image.id);
}

function pixelsNeeded(ids: readonly string[]): LlavaDeskError {
  return new LlavaDeskError(
    'ENGINE_IMAGES_NEEDED',
    `The session's cache does not hold image(s) ${ids.join(', ')}: send their pixels.`,
  );
}
