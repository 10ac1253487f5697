import type { PreparedImage } from '../api/engine.js';
import type { ImagePrepOptions } from '../imaging/prepare-files.js';

export type { ImagePrepOptions } from '../imaging/prepare-files.js';

/** The bitmaps the engine gets for `files`, in order (with high detail, several per file). */
export async function prepareImages(
  files: readonly string[],
  options: ImagePrepOptions,
  mmprojPath: string,
): Promise<PreparedImage[]> {
  // Loaded here, after the engine process was started, so that start is not delayed by sharp.
  const { prepareImageFiles } = await import('../imaging/prepare-files.js');
  return prepareImageFiles(files, options, mmprojPath);
}
