import type { PreparedImage } from '../api/engine.js';
import type { Detail } from './plan.js';
import { decodeImage, readImageFile } from './decode.js';
import { pixelHash } from './hashes.js';
import { prepareForEncoder } from './prepare.js';
import { readEncoderSpec } from './read-encoder-spec.js';

export interface ImagePrepOptions {
  detail: Detail;
  /** app: orient, pad, resize and tile here; runtime: hand libmtmd the decoded image. */
  imagePrep: 'app' | 'runtime';
}

/**
 * The bitmaps the engine gets for image `files`, in order (with high detail, several per file):
 * `llava-desk ask` and a server answering it for the CLI prepare them alike.
 */
export async function prepareImageFiles(
  files: readonly string[],
  options: ImagePrepOptions,
  mmprojPath: string,
): Promise<PreparedImage[]> {
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
