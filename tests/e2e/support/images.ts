import sharp from 'sharp';

export interface TestFile {
  name: string;
  mime: string;
  base64: string;
}

/** A small PNG with a clearly different picture per `pattern`. */
export async function pngFile(
  name: string,
  pattern: 'gradient' | 'checker' | 'stripes',
  width = 96,
  height = 64,
): Promise<TestFile> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const i = (y * width + x) * 3;
      const rgb =
        pattern === 'gradient'
          ? [(x * 255) / width, (y * 255) / height, 140]
          : pattern === 'checker'
            ? ((x >> 3) + (y >> 3)) % 2 === 0
              ? [30, 160, 60]
              : [245, 245, 245]
            : x % 12 < 6
              ? [200, 30, 30]
              : [30, 30, 200];
      raw[i] = rgb[0] ?? 0;
      raw[i + 1] = rgb[1] ?? 0;
      raw[i + 2] = rgb[2] ?? 0;
    }
  }
  const png = await sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
  return { name, mime: 'image/png', base64: png.toString('base64') };
}

/** A file that claims to be a PNG but is cut off after its header. */
export async function corruptPng(name: string): Promise<TestFile> {
  const whole = Buffer.from((await pngFile(name, 'checker')).base64, 'base64');
  return { name, mime: 'image/png', base64: whole.subarray(0, 80).toString('base64') };
}
