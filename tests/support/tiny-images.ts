import { join } from 'node:path';
import sharp from 'sharp';
import type { PreparedImage } from '../../src-main/api/engine.js';
import { createHash } from 'node:crypto';

export interface TestImage extends PreparedImage {
  pngPath: string;
}

/**
 * A PNG (lossless, so the CLI's stb_image decodes the same pixels) and its decoded RGB, for
 * engine tests. `pattern` picks one of a few clearly different pictures.
 */
export async function makeTestImage(
  dir: string,
  name: string,
  size: { width: number; height: number },
  pattern: 'gradient' | 'checker' | 'dark' | 'stripes',
): Promise<TestImage> {
  const { width, height } = size;
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const i = (y * width + x) * 3;
      const [r, g, b] =
        pattern === 'gradient'
          ? [(x * 255) / width, (y * 255) / height, 128]
          : pattern === 'checker'
            ? ((x >> 3) + (y >> 3)) % 2 === 0
              ? [30, 200, 40]
              : [250, 250, 250]
            : pattern === 'stripes'
              ? x % 12 < 6
                ? [200, 20, 20]
                : [20, 20, 200]
              : [8, 8, 8];
      raw[i] = r;
      raw[i + 1] = g;
      raw[i + 2] = b;
    }
  }
  const pngPath = join(dir, `${name}.png`);
  await sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toFile(pngPath);
  const decoded = await sharp(pngPath).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const rgb = new Uint8Array(decoded.data);
  return {
    id: createHash('sha256').update(rgb).digest('hex'),
    width: decoded.info.width,
    height: decoded.info.height,
    rgb,
    pngPath,
  };
}
