import type { PreparedImage } from '../api/engine.js';
import type { Detail } from '../imaging/index.js';

export interface ImagePrepOptions {
  detail: Detail;
  /** app: orient, pad, resize and tile here; runtime: hand libmtmd the decoded image. */
  imagePrep: 'app' | 'runtime';
}

/** The bitmaps the engine gets for `files`, in order (with high detail, several per file). */
export async function prepareImages(
  files: readonly string[],
  options: ImagePrepOptions,
  mmprojPath: string,
): Promise<PreparedImage[]> {
  // Loaded here, after the engine process was started, so that start is not delayed by sharp.
  const { decodeImage, pixelHash, prepareForEncoder, readEncoderSpec, readImageFile } =
    await import('../imaging/index.js');
  const encoder = options.imagePrep === 'app' ? await readEncoderSpec(mmprojPath) : undefined;
  const images: PreparedImage[] = [];
  for (const file of files) {
    const input = await readImageFile(file);
    if (!encoder) {
      const { pixels } = await decodeImage(input);
      images.push({
        id: pixelHash(pixels),
        width: pixels.width,
        height: pixels.height,
        rgb: pixels.data,
      });
      continue;
    }
    const prepared = await prepareForEncoder(input, {
      encoder,
      detail: options.detail,
      thumbnail: false,
    });
    for (const bitmap of prepared.bitmaps) {
      images.push({
        id: bitmap.pixelHash,
        width: bitmap.width,
        height: bitmap.height,
        rgb: bitmap.data,
      });
    }
  }
  return images;
}
